// Renders every failure in one place: a RegistryError as its descriptor says, a Challenge as 401, anything else
// as 500 UNKNOWN with the request id so an operator can find the logged cause.
import { Challenge } from '../auth/controller.js';
import { MalformedHttpError } from '../client-error.js';
import { ERRORS, RegistryError, type ErrorDescriptor } from '../errcode.js';
import { StorageError } from '../storage/driver/driver.js';
import type { HealthStatus } from '../health.js';
import type { Context } from './context.js';

interface ErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

function body(code: string, message: string, detail?: unknown): ErrorBody {
  return { errors: [{ code, message, ...(detail !== undefined && { detail }) }] };
}

export function isClientAbort(err: unknown): boolean {
  // The connection already got its refusal from client-error.ts; nothing more can be sent.
  if (err instanceof MalformedHttpError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error | undefined)?.message === 'aborted';
}

/** What a client is told when storage failed: a full disk and an unreachable backend each say so. */
function storageRefusal(err: StorageError, requestId: string): { descriptor: ErrorDescriptor; message: string } {
  const logged = `request id ${requestId} in the registry log has the cause`;
  switch (err.fault) {
    case 'full':
      return {
        descriptor: ERRORS.STORAGE_FULL,
        message: `the registry's storage (${err.driver}) is full: what this request sent was not kept; retry once space has been freed (${logged})`,
      };
    case 'unreachable':
      return {
        descriptor: ERRORS.UNAVAILABLE,
        message: `the registry's storage (${err.driver}) has not been reachable since the registry started; it is retried in the background: retry later (the registry log says why)`,
      };
    case 'failing':
      return { descriptor: ERRORS.UNAVAILABLE, message: `the registry's storage (${err.driver}) is failing; retry later (${logged})` };
  }
}

function render(ctx: Context, err: unknown): void {
  if (err instanceof RegistryError) {
    ctx.status = err.descriptor.status;
    ctx.set(err.headers);
    ctx.body = body(err.descriptor.code, err.message, err.detail);
    ctx.state.log.info({ err: { code: err.descriptor.code, message: err.message } }, 'request refused');
  } else if (err instanceof Challenge) {
    ctx.status = ERRORS.UNAUTHORIZED.status;
    ctx.set('WWW-Authenticate', err.header);
    ctx.body = body(ERRORS.UNAUTHORIZED.code, err.message);
    ctx.state.log.info({ challenge: err.header }, 'authentication challenge');
  } else if (err instanceof StorageError) {
    const { descriptor, message } = storageRefusal(err, ctx.state.requestId);
    // Unreachable since start-up is logged once per state change by the start-up retry, not per request.
    if (err.fault === 'unreachable') ctx.state.log.info({ err: { message: err.message } }, 'request refused: storage unreachable');
    else ctx.state.log.error({ err, fault: err.fault }, 'storage failure');
    ctx.status = descriptor.status;
    ctx.body = body(descriptor.code, message);
  } else if (isClientAbort(err)) {
    ctx.state.log.warn({ err }, 'client closed the connection mid-request');
    ctx.status = ERRORS.BLOB_UPLOAD_INVALID.status;
    ctx.body = body(ERRORS.BLOB_UPLOAD_INVALID.code, 'the request body ended early');
  } else {
    ctx.state.log.error({ err }, 'request failed');
    renderUnknown(ctx);
  }
}

function renderUnknown(ctx: Context): void {
  ctx.status = ERRORS.UNKNOWN.status;
  ctx.body = body(ERRORS.UNKNOWN.code, `internal error; the registry log has the cause under request id ${ctx.state.requestId}`);
}

export async function renderErrors(ctx: Context, next: () => Promise<unknown>): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new RegistryError('NOT_FOUND', `no API endpoint at ${ctx.method} ${ctx.path}`);
    }
  } catch (err) {
    try {
      render(ctx, err);
    } catch (failure) {
      // A header Node refuses to send (a control character or non-Latin-1 text in a realm) would otherwise escape to
      // Koa's bare 500 with nothing logged.
      ctx.state.log.error({ err: failure, refused: err }, 'the error response could not be sent as rendered');
      renderUnknown(ctx);
    }
  }
}

/** distribution answers 503 to every API request while a health check fails. */
export function refuseWhenUnhealthy(health: HealthStatus) {
  return async (_ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    const failing = Object.entries(health.failing());
    if (failing.length > 0) {
      throw new RegistryError('UNAVAILABLE', `the registry is unhealthy: ${failing.map(([check, error]) => `${check}: ${error}`).join('; ')}`);
    }
    await next();
  };
}
