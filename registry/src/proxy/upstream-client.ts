// Requests to one upstream registry: kept-alive connections, https checked against the system CAs plus the configured
// CA bundle, the auth it asks for (none, Basic, or Bearer tokens from its token service, cached per scope), redirects
// to where it keeps blobs (without our credentials when they lead elsewhere), and a timeout on silence.
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { UpstreamConfig } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import { parseChallenge, type Challenge } from './challenge.js';
import { TokenCache, TokenError } from './tokens.js';

/** Why an upstream request failed, as the metrics label it. */
export type UpstreamFailure = 'unreachable' | 'status' | 'auth' | 'digest' | 'invalid';

export class UpstreamError extends Error {
  constructor(
    readonly reason: UpstreamFailure,
    message: string,
    /** The upstream's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** A token answer is a few KiB; more is not a token service. */
const TOKEN_BODY_LIMIT = 1024 * 1024;
const USER_AGENT = 'lain-registry-mirror';
/** How long an upstream that could not be reached is not asked again: tags are served from storage at once meanwhile. */
const UNREACHABLE_PAUSE_MS = 10_000;

export async function drain(res: IncomingMessage): Promise<void> {
  res.resume();
  await new Promise<void>((resolve) => {
    res.once('end', resolve);
    res.once('close', resolve);
    res.once('error', () => resolve());
  });
}

async function readText(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new UpstreamError('invalid', `an answer of more than ${limit} bytes where a small one was expected`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class UpstreamClient {
  /** The upstream in metrics and logs: its namespace, or "remoteurl" for proxy.remoteurl. */
  readonly label: string;
  private agents: Promise<Agents> | undefined;
  /** What the upstream asked for last; requests carry the answer up front instead of being refused first. */
  private challenge: Challenge | undefined;
  private readonly tokens: TokenCache;
  /** After a request found no upstream, others fail at once for a while instead of each waiting for its timeout. */
  private unreachableUntil = 0;
  private lastFailure = '';

  constructor(
    readonly config: UpstreamConfig,
    private readonly metrics?: Metrics,
    /** An upstream silent for this long (no answer, no bytes) has failed: a tag is then served from storage. */
    private readonly timeoutMs = 15_000,
  ) {
    this.label = config.namespace ?? 'remoteurl';
    this.tokens = new TokenCache(async (url, headers) => {
      const res = await this.follow('GET', url, headers);
      return { status: res.statusCode ?? 0, body: await readText(res, TOKEN_BODY_LIMIT) };
    });
  }

  /**
   * GET or HEAD of `<remoteurl>/v2/<remote>/<path>`, authenticated as the upstream asks. The response, whatever its
   * status, is the caller's to read or drain; a refused authentication or no answer is an UpstreamError.
   */
  async request(method: 'GET' | 'HEAD', remote: string, path: string, headers: OutgoingHttpHeaders = {}): Promise<IncomingMessage> {
    const url = new URL(`${this.config.remoteurl}/v2/${remote}/${path}`);
    try {
      if (Date.now() < this.unreachableUntil) {
        throw new UpstreamError('unreachable', `${this.config.remoteurl} could not be reached a moment ago (${this.lastFailure}); it is asked again from ${new Date(this.unreachableUntil).toISOString()}`);
      }
      for (let attempt = 0; ; attempt++) {
        const authorization = await this.authorization(remote);
        const res = await this.follow(method, url, { ...headers, ...(authorization && { authorization }) });
        if (res.statusCode !== 401) return res;
        await drain(res);
        const challenge = parseChallenge(res.headers['www-authenticate']);
        const canAnswer = challenge !== undefined && (challenge.scheme === 'bearer' || this.config.username !== undefined);
        if (attempt > 0 || !canAnswer) {
          throw new UpstreamError('auth', `${this.config.remoteurl} refused ${this.config.username ? `the credentials of ${this.config.username}` : 'anonymous access'} to ${remote}`, 401);
        }
        if (this.challenge?.scheme === 'bearer') this.tokens.forget(this.tokenRequest(this.challenge, remote));
        this.challenge = challenge;
      }
    } catch (err) {
      const failure =
        err instanceof UpstreamError
          ? err
          : err instanceof TokenError
            ? new UpstreamError('auth', err.message)
            : new UpstreamError('unreachable', `${this.config.remoteurl} could not be reached: ${(err as Error).message}`);
      if (failure.reason === 'unreachable' && Date.now() >= this.unreachableUntil) {
        this.unreachableUntil = Date.now() + UNREACHABLE_PAUSE_MS;
        this.lastFailure = (err as Error).message;
      }
      this.countError(failure.reason);
      throw failure;
    }
  }

  /** The error for an answer other than the one expected (drained already), counted. */
  refused(res: IncomingMessage, what: string): UpstreamError {
    this.countError('status');
    return new UpstreamError('status', `${this.config.remoteurl} answered ${res.statusCode} to ${what}`, res.statusCode);
  }

  countError(reason: UpstreamFailure): void {
    this.metrics?.mirrorUpstreamErrors.inc({ upstream: this.label, reason });
  }

  countBytes(bytes: number): void {
    this.metrics?.mirrorUpstreamBytes.inc({ upstream: this.label }, bytes);
  }

  close(): void {
    void this.agents?.then((agents) => {
      agents.http.destroy();
      agents.https.destroy();
    });
  }

  private tokenRequest(challenge: Extract<Challenge, { scheme: 'bearer' }>, remote: string) {
    return {
      realm: challenge.realm,
      ...(challenge.service !== undefined && { service: challenge.service }),
      scope: `repository:${remote}:pull`,
      ...(this.config.username !== undefined && { username: this.config.username, password: this.config.password ?? '' }),
    };
  }

  private async authorization(remote: string): Promise<string | undefined> {
    const challenge = this.challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'bearer') return `Bearer ${await this.tokens.get(this.tokenRequest(challenge, remote))}`;
    const { username, password } = this.config;
    return username === undefined ? undefined : `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }

  /** Sends the request, following redirects; credentials go only to the upstream's own origin. */
  private async follow(method: 'GET' | 'HEAD', start: URL, headers: OutgoingHttpHeaders): Promise<IncomingMessage> {
    let url = start;
    let sent = headers;
    for (let hop = 0; ; hop++) {
      const res = await this.send(method, url, sent);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) return res;
      await drain(res);
      if (hop === MAX_REDIRECTS) throw new UpstreamError('invalid', `more than ${MAX_REDIRECTS} redirects from ${start.origin}`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        const { authorization: _dropped, ...rest } = sent;
        sent = rest;
      }
      url = next;
    }
  }

  private async send(method: string, url: URL, headers: OutgoingHttpHeaders): Promise<IncomingMessage> {
    const agents = await this.agentsFor();
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method, headers: { 'user-agent': USER_AGENT, ...headers }, agent: https ? agents.https : agents.http, timeout: this.timeoutMs },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`${url.origin} was silent for ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  private agentsFor(): Promise<Agents> {
    this.agents ??= (async () => {
      const bundle = this.config.cabundle;
      let ca: string[] | undefined;
      if (bundle !== undefined) {
        try {
          // Added to the system's CAs rather than replacing them: blobs are often redirected to a public CDN.
          ca = [...rootCertificates, await readFile(bundle, 'utf8')];
        } catch (err) {
          this.agents = undefined;
          throw new UpstreamError('unreachable', `cannot read the CA bundle ${bundle} of ${this.config.remoteurl}: ${(err as Error).message}`);
        }
      }
      return { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true, ...(ca && { ca }) }) };
    })();
    return this.agents;
  }
}
