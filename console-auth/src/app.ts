// The HTTP layer: Koa serving GET and POST /api/v1/authorize/registry/ (every method with http.anymethod), turning
// each request into a TokenRequest for the current ConsoleState. Building the app is separate from listening so
// tests bind port 0.
import Koa, { type Context } from 'koa';
import { koaBody } from 'koa-body';
import type { Logger } from '../../registry/src/log.js';
import { AddressRules } from './address-rules.js';
import { TokenService, type ConsoleState, type TokenRequest } from './authorize.js';
import { clientAddress } from './client-address.js';
import type { ConsoleConfig } from './config.js';
import { anonymousPull, type Grantor } from './grants.js';
import { AccountsIdentity, type Identity } from './identity.js';
import { LainEtcd } from './lain-etcd.js';
import { SsoGroupRights } from './lain-rights.js';
import { LainSsoIdentity } from './lain-sso.js';
import { Policy } from './policy.js';
import { FailureLimiter } from './ratelimit.js';
import { TokenSigner } from './signer.js';

export const TOKEN_PATH = '/api/v1/authorize/registry/';

export interface ConsoleDeps {
  logger: Logger;
  /** Clock for the login rate limiter and the SSO cache. */
  now?: () => number;
}

export interface ConsoleApp {
  readonly app: Koa;
  /** The console.yml in force. */
  readonly config: ConsoleConfig;
  /**
   * Switches to a new console.yml: keys, accounts and rules are loaded first, and only when all of it loads is it
   * swapped in; requests already running finish with the state they started with. Throws (keeping the old) otherwise.
   */
  reload(config: ConsoleConfig): Promise<void>;
  /** Stops polling etcd. */
  close(): void;
}

/** Thrown by the request parsing below for a query or form the endpoint cannot read. */
class MalformedRequest extends Error {}

type Params = Record<string, string | string[] | undefined>;

function single(params: Params, name: string): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw new MalformedRequest(`parameter ${name} is given ${value.length} times; give it once`);
  return value === '' ? undefined : value;
}

function all(params: Params, name: string): string[] {
  const value = params[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function basicCredentials(header: string | undefined): TokenRequest['basic'] {
  if (header === undefined || header === '') return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (match === null) throw new MalformedRequest('Authorization must be Basic credentials (base64 of user:password)');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new MalformedRequest('Basic credentials must be base64 of user:password');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// The socket's peer, never a forwarded header a client can write itself (the LAIN console trusted X-Real-IP).
function peerAddress(ctx: Context): string {
  const address = ctx.req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** A POST's OAuth2 form; with anyMethod, a POST without grant_type has none (LAIN's clients POST a query). */
function oauthForm(ctx: Context, anyMethod: boolean): Params | undefined {
  if (ctx.method !== 'POST') return undefined;
  const body = ctx.request.body;
  const form = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Params) : undefined;
  if (anyMethod && form?.grant_type === undefined) return undefined;
  if (form === undefined) throw new MalformedRequest('POST needs an application/x-www-form-urlencoded body (OAuth2 token request)');
  return form;
}

/**
 * GET, and with anyMethod every method but an OAuth2 form POST, reads the query and Basic credentials, as LAIN's
 * console did whatever the method.
 */
function tokenRequest(ctx: Context, address: string, anyMethod: boolean): TokenRequest {
  const form = oauthForm(ctx, anyMethod);
  if (form === undefined) {
    const query = ctx.query as Params;
    return {
      method: 'GET',
      address,
      service: single(query, 'service'),
      scopes: all(query, 'scope'),
      account: single(query, 'account'),
      basic: basicCredentials(ctx.get('Authorization')),
      offline: single(query, 'offline_token') === 'true',
      clientId: single(query, 'client_id'),
    };
  }
  return {
    method: 'POST',
    address,
    service: single(form, 'service'),
    scopes: all(form, 'scope'),
    offline: single(form, 'access_type') === 'offline',
    grantType: single(form, 'grant_type'),
    clientId: single(form, 'client_id'),
    username: single(form, 'username'),
    password: single(form, 'password'),
    refreshToken: single(form, 'refresh_token'),
  };
}

function identityOf(config: ConsoleConfig, lain: LainEtcd | undefined, deps: ConsoleDeps): { identity: Identity; grantors: Grantor[] } {
  const grantors: Grantor[] = config.anonymousPull ? [anonymousPull] : [];
  if (config.identity.backend === 'accounts') return { identity: new AccountsIdentity(config.accounts), grantors };
  const sso = new LainSsoIdentity(config.identity.sso, lain && (() => lain.current), deps.now);
  return { identity: sso, grantors: [...grantors, new SsoGroupRights(sso)] };
}

/** The state of one console.yml and, when it configures etcd, the poller of the LAIN keys (to stop when replaced). */
async function buildState(config: ConsoleConfig, deps: ConsoleDeps): Promise<{ state: ConsoleState; lain?: LainEtcd }> {
  const signer = await TokenSigner.load(config.token.key, config.token.certificate, config.token.issuer);
  const lain = config.etcd === undefined ? undefined : await LainEtcd.start(config.etcd, deps.logger);
  const state: ConsoleState = {
    config,
    ...identityOf(config, lain, deps),
    policy: new Policy(config.rules, config.mode),
    signer,
    ...(lain !== undefined && { addresses: new AddressRules(() => lain.current, config.http.trustedProxies) }),
  };
  return { state, ...(lain !== undefined && { lain }) };
}

function sendError(ctx: Context, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.body = { errors: [{ code, message }], error: 'invalid_request', error_description: message };
}

export async function createConsoleApp(config: ConsoleConfig, deps: ConsoleDeps): Promise<ConsoleApp> {
  let { state, lain } = await buildState(config, deps);
  const limiter = new FailureLimiter(config.ratelimit.failures, config.ratelimit.window, deps.now);
  const audit = deps.logger.child({ component: 'audit' });
  const service = new TokenService(limiter, audit);
  const app = new Koa();
  const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '64kb' });

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (err instanceof MalformedRequest) {
        audit.info({ audit: 'refusal', address: peerAddress(ctx), status: 400, reason: err.message }, 'token refused');
        return sendError(ctx, 400, 'INVALID_REQUEST', err.message);
      }
      // koa-body's own refusals (body too large, unreadable form) carry their 4xx status.
      if (typeof status === 'number' && status >= 400 && status < 500) return sendError(ctx, status, 'INVALID_REQUEST', (err as Error).message);
      deps.logger.error({ err, path: ctx.path }, 'token endpoint failed');
      sendError(ctx, 500, 'UNKNOWN', 'internal error; the console-auth log has the details');
    }
  });

  app.use(async (ctx, next) => {
    if (ctx.path !== TOKEN_PATH && ctx.path !== TOKEN_PATH.slice(0, -1)) {
      return sendError(ctx, 404, 'NOT_FOUND', `no such endpoint; tokens are served at ${TOKEN_PATH}`);
    }
    if (ctx.method !== 'GET' && ctx.method !== 'POST' && !state.config.http.anyMethod) {
      ctx.set('Allow', 'GET, POST');
      return sendError(ctx, 405, 'UNSUPPORTED', `${ctx.method} is not supported here; use GET or POST`);
    }
    if (ctx.method === 'POST') await form(ctx, async () => undefined);
    await next();
  });

  app.use(async (ctx) => {
    const current = state;
    const address = clientAddress(ctx.req.socket.remoteAddress, ctx.headers, current.config.http.trustedProxies);
    const result = await service.handle(current, tokenRequest(ctx, address, current.config.http.anyMethod));
    ctx.status = result.status;
    ctx.set(result.headers);
    ctx.body = result.body;
  });

  return {
    app,
    get config() {
      return state.config;
    },
    async reload(next: ConsoleConfig) {
      const built = await buildState(next, deps);
      limiter.configure(next.ratelimit.failures, next.ratelimit.window);
      lain?.stop();
      ({ state, lain } = built);
    },
    close() {
      lain?.stop();
    },
  };
}
