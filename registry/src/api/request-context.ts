// First middleware: request id, per-request child logger, the headers every response carries, the access log.
import { randomUUID } from 'node:crypto';
import type { Services, Context } from './context.js';

const API_VERSION = 'registry/2.0';

export function requestContext(services: Services) {
  const { config, logger } = services;
  const extraHeaders = Object.entries(config.http.headers);
  const accessLog = !config.log.accesslog.disabled;
  return async (ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    const started = process.hrtime.bigint();
    // Read now: once an HTTP/2 stream has closed its socket is unbound, and a body stream destroyed mid-request (a
    // storage failure while a chunk streams in) detaches the socket from the request; the access log runs after that.
    const req = { method: ctx.method, url: ctx.url, remoteAddress: ctx.req.socket?.remoteAddress, userAgent: ctx.get('user-agent') };
    ctx.state.requestId = randomUUID();
    ctx.state.log = logger.child({ reqId: ctx.state.requestId });
    ctx.set('Docker-Distribution-API-Version', API_VERSION);
    ctx.set('X-Request-Id', ctx.state.requestId);
    for (const [name, values] of extraHeaders) ctx.set(name, values);
    await next();
    if (accessLog) {
      const finish = () =>
        ctx.state.log.info(
          {
            req,
            res: { status: ctx.status, length: ctx.response.length },
            subject: ctx.state.subject,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          },
          'request',
        );
      if (ctx.res.writableFinished) finish();
      else ctx.res.once('close', finish);
    }
  };
}
