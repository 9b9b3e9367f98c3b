// The HTTP layer: Koa serving GET and POST /api/v1/authorize/registry/ (every method with http.anymethod), turning
// each request into a TokenRequest for the current ConsoleState. Building the app is separate from listening so
// tests bind port 0.
import Koa, { type Context } from 'koa';
import { parseBasicAuth } from '../../registry/src/auth/basic.js';
import { LoginThrottle, type ThrottlePolicy } from '../../registry/src/auth/login-throttle.js';
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
import { MalformedRequest, Params, readForm } from './params.js';
import { Policy } from './policy.js';
import { TokenSigner } from './signer.js';

export const TOKEN_PATH = '/api/v1/authorize/registry/';

export interface ConsoleDeps {
  logger: Logger;
  /** Clock for the login limits and the SSO cache. */
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

/** Form bodies larger than this are refused: 100 scopes of 255 characters fit in it. */
const FORM_LIMIT = 64 * 1024;

function basicCredentials(header: string | undefined): TokenRequest['basic'] {
  if (header === undefined || header === '') return undefined;
  const credentials = parseBasicAuth(header);
  if (credentials === undefined) throw new MalformedRequest('Authorization must be Basic credentials (base64 of user:password)');
  return credentials;
}

// The socket's peer, never a forwarded header a client can write itself (the LAIN console trusted X-Real-IP).
function peerAddress(ctx: Context): string {
  const address = ctx.req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** A POST's OAuth2 form; with anyMethod, a POST without grant_type has none (LAIN's clients POST a query). */
async function oauthForm(ctx: Context, anyMethod: boolean): Promise<Params | undefined> {
  if (ctx.method !== 'POST') return undefined;
  const form = ctx.is('application/x-www-form-urlencoded') === false ? undefined : await readForm(ctx.req, FORM_LIMIT);
  if (anyMethod && form?.has('grant_type') !== true) return undefined;
  if (form === undefined) throw new MalformedRequest('POST needs an application/x-www-form-urlencoded body (OAuth2 token request)');
  return form;
}

/**
 * GET, and with anyMethod every method but an OAuth2 form POST, reads the query and Basic credentials, as LAIN's
 * console did whatever the method.
 */
async function tokenRequest(ctx: Context, address: string, anyMethod: boolean): Promise<TokenRequest> {
  const form = await oauthForm(ctx, anyMethod);
  if (form === undefined) {
    const query = Params.parse(ctx.querystring);
    return {
      method: 'GET',
      address,
      service: query.single('service'),
      scopes: query.all('scope'),
      account: query.single('account'),
      basic: basicCredentials(ctx.get('Authorization')),
      offline: query.single('offline_token') === 'true',
      clientId: query.single('client_id'),
    };
  }
  return {
    method: 'POST',
    address,
    service: form.single('service'),
    scopes: form.all('scope'),
    offline: form.single('access_type') === 'offline',
    grantType: form.single('grant_type'),
    clientId: form.single('client_id'),
    username: form.single('username'),
    password: form.single('password'),
    refreshToken: form.single('refresh_token'),
  };
}

function identityOf(config: ConsoleConfig, lain: LainEtcd | undefined, deps: ConsoleDeps): { identity: Identity; grantors: Grantor[] } {
  const grantors: Grantor[] = config.anonymousPull ? [anonymousPull] : [];
  if (config.identity.backend === 'accounts') return { identity: new AccountsIdentity(config.accounts), grantors };
  const sso = new LainSsoIdentity(config.identity.sso, lain && (() => lain.current), deps.now);
  return { identity: sso, grantors: [...grantors, new SsoGroupRights(sso, deps.logger)] };
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

function throttlePolicy(config: ConsoleConfig): ThrottlePolicy {
  return { pairFailures: config.ratelimit.failures, addressFailures: config.ratelimit.addressFailures, windowMs: config.ratelimit.window };
}

export async function createConsoleApp(config: ConsoleConfig, deps: ConsoleDeps): Promise<ConsoleApp> {
  let { state, lain } = await buildState(config, deps);
  const throttle = new LoginThrottle(throttlePolicy(config), deps.now);
  const audit = deps.logger.child({ component: 'audit' });
  const service = new TokenService(throttle, audit);
  const app = new Koa();

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof MalformedRequest) {
        audit.info({ audit: 'refusal', address: peerAddress(ctx), status: err.status, reason: err.message }, 'token refused');
        return sendError(ctx, err.status, 'INVALID_REQUEST', err.message);
      }
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
    await next();
  });

  app.use(async (ctx) => {
    const current = state;
    const address = clientAddress(ctx.req.socket.remoteAddress, ctx.headers, current.config.http.trustedProxies);
    const result = await service.handle(current, await tokenRequest(ctx, address, current.config.http.anyMethod));
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
      throttle.configure(throttlePolicy(next));
      lain?.stop();
      ({ state, lain } = built);
    },
    close() {
      lain?.stop();
    },
  };
}
