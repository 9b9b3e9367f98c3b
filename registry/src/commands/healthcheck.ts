// registry healthcheck <config.yml>: does the registry this config describes answer? The image's HEALTHCHECK runs it
// against the config bootstrap rendered, so the check follows http.addr, http.tls and http.prefix (REGISTRY_*
// overrides applied, as `serve` applies them) instead of assuming http://127.0.0.1:5000. GET <base>/v2/ answering 200
// (open) or 401 (auth on) is healthy: exit 0. Anything else is one line saying why, and exit 1 (Docker reads every
// other code as unhealthy too, and reserves 2).
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HttpConfig } from '../config/types.js';
import { parseAddr } from '../listen-address.js';
import { CommandError, type Command } from './command.js';
import { loadForCommand } from './load.js';

const USAGE = 'registry healthcheck <config.yml>';
/** Under Docker's usual HEALTHCHECK --timeout of 5 s, so that the reason is ours and not Docker's kill. */
const TIMEOUT_MS = 4000;
const HEALTHY = new Set([200, 401]);

/** Where the registry answers, seen from its own container: a wildcard listener is asked on loopback. */
export function healthUrl(http: Pick<HttpConfig, 'addr' | 'tls' | 'prefix'>): URL {
  const { host, port } = parseAddr(http.addr);
  const target = host === undefined || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return new URL(`${http.tls === undefined ? 'http' : 'https'}://${target}:${port}${http.prefix}v2/`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function get(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    // The registry's own certificate, reached on its own address: no credentials are sent and only the status is
    // read, so there is nothing to verify it for (a self-signed or a CA-issued one for another name both pass).
    const req: ClientRequest = url.protocol === 'https:' ? httpsRequest(url, { agent: false, rejectUnauthorized: false }, done) : httpRequest(url, { agent: false }, done);
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    req.once('close', () => clearTimeout(timer));
    req.once('error', reject);
    req.end();
  });
}

export const healthcheck: Command = {
  usage: '<config.yml>',
  summary: 'GET /v2/ of the registry the config describes (http.addr, http.tls, http.prefix); exit 0 on 200 or 401, else 1 with the reason',
  async run(args) {
    if (args.length !== 1 || args[0].startsWith('-')) throw new CommandError(`unhealthy: bad arguments ${JSON.stringify(args)}; usage: ${USAGE}`);
    let url: URL;
    try {
      const { config } = await loadForCommand(args[0], USAGE);
      url = healthUrl(config.http);
    } catch (err) {
      const lines = (err as Error).message.split('\n');
      const more = lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? 's' : ''})` : '';
      throw new CommandError(`unhealthy: ${oneLine(lines[0])}${more}`);
    }
    let status: number;
    try {
      status = await get(url);
    } catch (err) {
      const { code, message } = err as NodeJS.ErrnoException;
      throw new CommandError(`unhealthy: GET ${url.href}: ${oneLine(code === undefined || message.includes(code) ? message : `${message} (${code})`)}`);
    }
    if (!HEALTHY.has(status)) throw new CommandError(`unhealthy: GET ${url.href} answered ${status}, expected 200 or 401`);
    process.stdout.write(`healthy: GET ${url.href} answered ${status}\n`);
    return 0;
  },
};
