// A small HTTP client for the console-auth and Basic-auth tests: Basic credentials, url-encoded forms, and a chosen
// loopback source address (127.0.0.2 is loopback too), which fetch cannot do and the per-address login limits need.
import { request, type IncomingHttpHeaders } from 'node:http';
import jwt from 'jsonwebtoken';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';
  /** [user, password] sent as Basic credentials. */
  basic?: [string, string];
  /** Sent as application/x-www-form-urlencoded; repeated keys as arrays. */
  form?: Record<string, string | string[]>;
  /** A form body sent as written (application/x-www-form-urlencoded), for bodies `form` cannot spell. */
  formText?: string;
  headers?: Record<string, string>;
  localAddress?: string;
}

export function call(url: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.basic) headers.Authorization = `Basic ${Buffer.from(opts.basic.join(':')).toString('base64')}`;
  let payload: string | undefined;
  if (opts.form) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(opts.form)) for (const v of [value].flat()) params.append(key, v);
    payload = params.toString();
  }
  if (opts.formText !== undefined) payload = opts.formText;
  if (payload !== undefined) headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? (payload !== undefined ? 'POST' : 'GET'), headers, localAddress: opts.localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
        } catch {
          reject(new Error(`${url}: answer ${res.statusCode} is not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The token endpoint URL with query parameters (scope may repeat). */
export function tokenUrl(realm: string, params: Record<string, string | string[]>): string {
  const url = new URL(realm);
  for (const [key, value] of Object.entries(params)) for (const v of [value].flat()) url.searchParams.append(key, v);
  return url.toString();
}

export interface DecodedToken {
  header: jwt.JwtHeader & { x5c?: string[] };
  payload: jwt.JwtPayload & { access?: Array<{ type: string; name: string; actions: string[] }> };
}

/** Header and claims of a JWT, unverified (the tests verify with the registry's controller separately). */
export function decode(token: unknown): DecodedToken {
  if (typeof token !== 'string') throw new Error(`not a token: ${JSON.stringify(token)}`);
  const decoded = jwt.decode(token, { complete: true });
  if (decoded === null || typeof decoded.payload === 'string') throw new Error('not a JWT with JSON claims');
  return { header: decoded.header as DecodedToken['header'], payload: decoded.payload };
}
