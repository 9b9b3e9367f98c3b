// Bearer tokens from an upstream's token service (the Docker token spec: GET realm?service=&scope=, with Basic
// credentials when the mirror has them), cached per scope until they expire, one request per scope at a time.
import { BoundedMap } from '../storage/bounded-map.js';

export interface TokenRequest {
  realm: string;
  service?: string;
  scope: string;
  username?: string;
  password?: string;
}

interface Cached {
  token: string;
  expiresAt: number;
}

/** The spec's default lifetime when the service does not say. */
const DEFAULT_LIFETIME_S = 60;
/** Renewed a little before the end, so a token does not lapse between here and the upstream. */
const MARGIN_MS = 5000;

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

export type TokenFetcher = (url: URL, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

/** Counted from when the token was asked for: issued_at is the service's clock, which may not be ours. */
function lifetimeMs(json: Record<string, unknown>): number {
  return (typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_LIFETIME_S) * 1000;
}

export class TokenCache {
  private readonly tokens = new BoundedMap<string, Cached>(1000);
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly fetchToken: TokenFetcher,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token for the request's scope, from the cache while it lives. */
  get(request: TokenRequest): Promise<string> {
    const key = `${request.realm} ${request.service ?? ''} ${request.scope}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt - MARGIN_MS > this.now()) return Promise.resolve(cached.token);
    let running = this.pending.get(key);
    if (!running) {
      running = this.request(key, request).finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    return running;
  }

  /** Drops the scope's token: the upstream refused it. */
  forget(request: TokenRequest): void {
    this.tokens.delete(`${request.realm} ${request.service ?? ''} ${request.scope}`);
  }

  private async request(key: string, request: TokenRequest): Promise<string> {
    const url = new URL(request.realm);
    if (request.service !== undefined) url.searchParams.set('service', request.service);
    url.searchParams.set('scope', request.scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.username !== undefined && request.password !== undefined) {
      url.searchParams.set('account', request.username);
      headers.authorization = `Basic ${Buffer.from(`${request.username}:${request.password}`).toString('base64')}`;
    }
    const started = this.now();
    const { status, body } = await this.fetchToken(url, headers);
    if (status !== 200) {
      throw new TokenError(`the token service ${url.origin}${url.pathname} answered ${status} for ${request.scope}${request.username ? ` as ${request.username}` : ' without credentials'}`);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new TokenError(`the token service ${url.origin}${url.pathname} answered something that is not JSON`);
    }
    const token = typeof json.token === 'string' ? json.token : json.access_token;
    if (typeof token !== 'string' || token === '') throw new TokenError(`the token service ${url.origin}${url.pathname} answered no token`);
    this.tokens.set(key, { token, expiresAt: started + lifetimeMs(json) });
    return token;
  }
}
