// HTTP/1.1 over a bare socket, for inputs fetch refuses to send: a Content-Length that lies about the body, a body
// cut short, a path that is not valid percent-encoding, duplicate or malformed headers. One request per connection.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request line's protocol; HTTP/1.1 unless a test sends something else. */
  version?: string;
  /** Sent as is on the request line (the caller encodes what must be encoded). */
  target: string;
  /**
   * In order, duplicates allowed; Host is added unless present. The connection stays HTTP/1.1 keep-alive, as real
   * clients' are, unless the caller sends Connection: close; the client closes it once the answer is in.
   */
  headers: [string, string][];
  body?: Buffer;
  /**
   * How the client ends its side: 'complete' sends the body and waits for the answer; 'truncate' sends the body and
   * then half-closes, so a Content-Length larger than the body is a body cut short.
   */
  ending?: 'complete' | 'truncate';
}

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** What came back: a parsed response, or the connection closed before a whole status line and headers arrived. */
export type RawOutcome = { kind: 'response'; response: RawResponse } | { kind: 'closed'; received: Buffer };

/** The response in data; with `ended`, a body without length or chunking runs to the end of the connection. */
function parse(data: Buffer, method: string, ended = false): RawResponse | undefined {
  const headerEnd = data.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const [statusLine = '', ...lines] = data.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const rest = data.subarray(headerEnd + 4);
  const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) return { status, headers, body: Buffer.alloc(0) };
  const length = headers.get('content-length');
  if (length !== undefined) return rest.length >= Number(length) ? { status, headers, body: rest.subarray(0, Number(length)) } : undefined;
  if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') return dechunk(rest, status, headers);
  return ended ? { status, headers, body: rest } : undefined;
}

function dechunk(data: Buffer, status: number, headers: Map<string, string>): RawResponse | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return { status, headers, body: Buffer.concat(parts) };
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

export function rawRequest(url: string, req: RawRequest): Promise<RawOutcome> {
  const { hostname, port, host } = new URL(url);
  const names = new Set(req.headers.map(([name]) => name.toLowerCase()));
  const headers = [...req.headers];
  if (!names.has('host')) headers.unshift(['Host', host]);
  const head = `${req.method} ${req.target} ${req.version ?? 'HTTP/1.1'}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const response = parse(Buffer.concat(chunks), req.method);
      if (response) finish({ kind: 'response', response });
    });
    socket.on('end', () => finish(parseOrClosed(Buffer.concat(chunks), req.method)));
    socket.on('close', () => finish(parseOrClosed(Buffer.concat(chunks), req.method)));
    // A server that answers early and closes may reset the connection while the body is still going out.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(parseOrClosed(Buffer.concat(chunks), req.method));
      else if (!settled) {
        settled = true;
        reject(err);
      }
    });
    socket.write(head, 'latin1');
    if (req.body?.length) socket.write(req.body);
    if (req.ending === 'truncate') socket.end();
  });
}

function parseOrClosed(data: Buffer, method: string): RawOutcome {
  const response = parse(data, method, true);
  return response ? { kind: 'response', response } : { kind: 'closed', received: data };
}
