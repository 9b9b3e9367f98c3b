// The token endpoint's decisions, apart from HTTP: who the caller is (password, refresh token or nobody), what the
// policy grants of what was asked, the signed answer, and one audit line per grant or refusal. Never logs a secret.
import { TooManyAttempts, type LoginThrottle, type RunCheck } from '../../registry/src/auth/login-throttle.js';
import type { Logger } from '../../registry/src/log.js';
import { clip } from '../../registry/src/storage/reference.js';
import type { AddressRules } from './address-rules.js';
import type { ConsoleConfig } from './config.js';
import { extraRights, type Grantor } from './grants.js';
import { IdentityUnavailable, type AuthenticatedPrincipal, type Identity } from './identity.js';
import type { Policy } from './policy.js';
import { formatScope, parseScopes, ScopeError, type Scope } from './scope.js';
import type { TokenSigner } from './signer.js';

/** Everything one console.yml produces; a reload swaps the whole of it, requests keep the one they started with. */
export interface ConsoleState {
  config: ConsoleConfig;
  identity: Identity;
  policy: Policy;
  signer: TokenSigner;
  /** Rights besides the rules' (LAIN SSO groups, anonymous_pull). */
  grantors: readonly Grantor[];
  /** LAIN's whitelist and node network, when etcd is configured. */
  addresses?: AddressRules;
}

/** A token request, from the GET query (plus Basic credentials) or the POST form. */
export interface TokenRequest {
  method: 'GET' | 'POST';
  address: string;
  service?: string;
  scopes: string[];
  /** GET: the `account` parameter, informational. */
  account?: string;
  /** GET: Basic credentials. */
  basic?: { username: string; password: string };
  /** GET offline_token=true or POST access_type=offline: the caller wants a refresh token. */
  offline: boolean;
  grantType?: string;
  clientId?: string;
  username?: string;
  password?: string;
  refreshToken?: string;
}

export interface TokenResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** The most scopes one request may ask; more is a client bug or an attempt to make us work. */
const MAX_SCOPES = 100;

/** A refusal: its status, the errcode-style code and message, and an OAuth2 error name for POST clients. */
class Refusal extends Error {
  constructor(
    readonly status: 400 | 401 | 429,
    readonly code: string,
    readonly oauthError: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const badRequest = (message: string): Refusal => new Refusal(400, 'INVALID_REQUEST', 'invalid_request', message);
const unauthorized = (message: string): Refusal => new Refusal(401, 'UNAUTHORIZED', 'invalid_grant', message);

type Credentials =
  | { kind: 'anonymous' }
  | { kind: 'password'; username: string; password: string }
  | { kind: 'refresh'; token: string };

function credentialsOf(req: TokenRequest): Credentials {
  if (req.method === 'GET') {
    if (req.basic === undefined) return { kind: 'anonymous' };
    if (req.account !== undefined && req.account !== req.basic.username) {
      throw badRequest(`account "${clip(req.account)}" does not match the user name of the credentials`);
    }
    return { kind: 'password', ...req.basic };
  }
  if (req.clientId === undefined) throw badRequest('client_id is required (a name for the client, e.g. "docker")');
  if (req.grantType === 'password') {
    if (req.username === undefined || req.password === undefined) throw badRequest('grant_type=password needs username and password');
    return { kind: 'password', username: req.username, password: req.password };
  }
  if (req.grantType === 'refresh_token') {
    if (req.refreshToken === undefined) throw badRequest('grant_type=refresh_token needs refresh_token');
    return { kind: 'refresh', token: req.refreshToken };
  }
  throw new Refusal(400, 'INVALID_REQUEST', 'unsupported_grant_type', `grant_type must be password or refresh_token (got ${JSON.stringify(req.grantType ?? null)})`);
}

export class TokenService {
  constructor(
    private readonly throttle: LoginThrottle,
    private readonly logger: Logger,
  ) {}

  async handle(state: ConsoleState, req: TokenRequest): Promise<TokenResponse> {
    const asked = req.scopes.flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const audit = {
      address: req.address,
      service: req.service,
      clientId: req.clientId,
      grantType: req.method === 'GET' ? (req.basic === undefined ? 'anonymous' : 'basic') : req.grantType,
      asked: asked.slice(0, MAX_SCOPES).map((s) => clip(s, 256)),
    };
    let account = req.basic?.username ?? req.username;
    try {
      const { service, scopes, credentials } = this.parse(state, req, asked);
      // A whitelisted address gets what it asks without a password check, so the cluster's nodes pull and push
      // when SSO is down; the token names no subject, since no credentials were checked.
      const addressRule = state.addresses?.match(req.address);
      const principal = addressRule === undefined ? await this.authenticate(state, credentials, req.address, service) : undefined;
      account = principal?.account;
      const granted =
        addressRule === undefined
          ? state.policy.grant(principal, scopes, await extraRights(state.grantors, principal, scopes))
          : scopes.map((scope) => ({ ...scope, actions: [...scope.actions] }));
      const access = state.signer.signAccessToken(principal?.account ?? '', service, granted, state.config.token.ttl);
      const body: Record<string, unknown> = {
        token: access.token,
        access_token: access.token,
        expires_in: access.expiresIn,
        issued_at: access.issuedAt.toISOString(),
      };
      if (req.offline && credentials.kind === 'password' && principal !== undefined) {
        body.refresh_token = state.signer.signRefreshToken({ account: principal.account, stamp: principal.stamp, service }, state.config.token.refreshttl);
      }
      this.logger.info(
        {
          audit: 'grant',
          ...audit,
          account: account ?? null,
          ...(addressRule !== undefined && { addressRule }),
          granted: granted.filter((s) => s.actions.length > 0).map(formatScope),
          refreshToken: 'refresh_token' in body,
        },
        'token granted',
      );
      return { status: 200, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' }, body };
    } catch (caught) {
      // Fail closed: with the identity backend unreachable nobody is known, and the message says why.
      const err = caught instanceof IdentityUnavailable ? new Refusal(401, 'UNAUTHORIZED', 'temporarily_unavailable', caught.message) : caught;
      if (!(err instanceof Refusal)) throw err;
      this.logger.info({ audit: 'refusal', ...audit, account: account === undefined ? null : clip(account), status: err.status, reason: err.message }, 'token refused');
      return this.refusal(state, err);
    }
  }

  private parse(state: ConsoleState, req: TokenRequest, asked: string[]): { service: string; scopes: Scope[]; credentials: Credentials } {
    const service = req.service ?? state.config.token.service;
    if (service !== state.config.token.service) {
      throw badRequest(`service "${clip(service)}" is not served here (this console issues tokens for "${state.config.token.service}")`);
    }
    if (asked.length > MAX_SCOPES) throw badRequest(`at most ${MAX_SCOPES} scopes per request (got ${asked.length})`);
    let scopes: Scope[];
    try {
      scopes = parseScopes(asked);
    } catch (err) {
      if (err instanceof ScopeError) throw badRequest(err.message);
      throw err;
    }
    return { service, scopes, credentials: credentialsOf(req) };
  }

  private async authenticate(state: ConsoleState, credentials: Credentials, address: string, service: string): Promise<AuthenticatedPrincipal | undefined> {
    if (credentials.kind === 'anonymous') return undefined;
    // A refresh token names its account only once verified: its attempts count against the address, as account "".
    const [account, secret] = credentials.kind === 'password' ? [credentials.username, credentials.password] : ['', credentials.token];
    let principal: AuthenticatedPrincipal | undefined;
    try {
      principal = await this.throttle.attempt(account, address, secret, (run) => this.verify(state, credentials, service, run));
    } catch (err) {
      if (err instanceof TooManyAttempts) throw new Refusal(429, 'TOOMANYREQUESTS', 'slow_down', err.message, err.retryAfter);
      throw err;
    }
    if (principal === undefined) {
      throw unauthorized(credentials.kind === 'password' ? 'incorrect username or password' : 'refresh token is invalid, expired or revoked; log in again');
    }
    return principal;
  }

  private async verify(state: ConsoleState, credentials: Exclude<Credentials, { kind: 'anonymous' }>, service: string, run: RunCheck): Promise<AuthenticatedPrincipal | undefined> {
    const open = state.config.mode === 'open';
    if (credentials.kind === 'password') {
      // Open mode grants every request, as a console with auth off does; the name given is only recorded.
      if (open) return { account: credentials.username, groups: [], stamp: 'open' };
      return state.identity.authenticate(credentials.username, credentials.password, run);
    }
    const claims = state.signer.verifyRefreshToken(credentials.token);
    if (claims === undefined || claims.service !== service) return undefined;
    if (open) return { account: claims.account, groups: [], stamp: claims.stamp };
    const principal = await state.identity.lookup(claims.account);
    return principal?.stamp === claims.stamp ? principal : undefined;
  }

  private refusal(state: ConsoleState, err: Refusal): TokenResponse {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (err.status === 401) headers['WWW-Authenticate'] = `Basic realm="${state.config.http.realm.replace(/["\\]/g, '\\$&')}"`;
    if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter);
    // docker and containers/image print errors[0] as "<code>: <message>"; OAuth2 clients read error/error_description.
    const body = { errors: [{ code: err.code, message: err.message }], error: err.oauthError, error_description: err.message };
    return { status: err.status, headers, body };
  }
}
