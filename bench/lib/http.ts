// A registry client on node:http with keep-alive sockets: fetch (undici) costs the client more CPU per request, and
// on this 2-core machine the client's CPU is taken from the registry under test.
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type Body = Buffer | string | Readable;

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class Client {
  readonly base: URL;
  private readonly agent: Agent;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Path and query of a URL the registry returned (Location, Link), which may be absolute or relative. */
  pathOf(location: string): string {
    const url = new URL(location, this.base);
    return url.pathname + url.search;
  }

  /** Resolves with the response head; the caller consumes the body (read, drain or pipe). */
  send(method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: Body): Promise<IncomingMessage> {
    const req = request({
      host: this.base.hostname,
      port: this.base.port,
      method,
      path,
      headers,
      agent: this.agent,
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    if (body instanceof Readable) pipeline(body, req).catch((err: Error) => req.destroy(err));
    else req.end(body);
    return response;
  }

  /** A request whose response is small enough to hold; throws unless the status is one of `expect`. */
  async call(method: string, path: string, expect: number[], headers: OutgoingHttpHeaders = {}, body?: Body): Promise<Reply> {
    const res = await this.send(method, path, headers, body);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const reply = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
    if (!expect.includes(reply.status)) {
      throw new Error(`${method} ${path}: HTTP ${reply.status}, expected ${expect.join(' or ')}: ${reply.body.toString('utf8', 0, 500)}`);
    }
    return reply;
  }

  /** Closes the idle keep-alive sockets so the registry sees the client go away between workloads. */
  close(): void {
    this.agent.destroy();
  }
}

/** Reads a response to its end without keeping it, and returns how many bytes it had. */
export async function drain(res: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const chunk of res) bytes += (chunk as Buffer).length;
  return bytes;
}

export function header(reply: { headers: IncomingHttpHeaders }, name: string): string {
  const value = reply.headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) throw new Error(`response has no ${name} header`);
  return text;
}

/** Appends a query parameter to an upload Location, which may already carry distribution's `_state`. */
export function withQuery(path: string, key: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}
