// Answers requests Node's HTTP parser refuses (bad framing, bad headers) the way the API answers every other
// refusal: the API version header and an OCI error body, instead of Node's bare "400 Bad Request". When the bad bytes
// follow a complete request, that request's response is finished first, so the refusal never replaces the answer to
// a good request; when they are the request's own body (cut short, bad chunking), the refusal is its answer.
// HTTP/2 has no such parser errors to answer: nghttp2 ends a session that breaks framing with GOAWAY itself, so only
// HTTP/1.1 exchanges (plain, TLS, or TLS on the HTTP/2 server's fallback) are followed here.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Http2ServerRequest, type Http2SecureServer, type Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { ERRORS, type ErrorDescriptor } from './errcode.js';
import type { Logger } from './log.js';

/** How long a refused connection waits for its in-flight response before it is cut. */
const FINISH_GRACE_MS = 5_000;

function rawResponse(descriptor: ErrorDescriptor, detail: string): string {
  const body = JSON.stringify({ errors: [{ code: descriptor.code, message: `${descriptor.message}: ${detail}` }] });
  return [
    `HTTP/1.1 ${descriptor.status} ${STATUS_CODES[descriptor.status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Docker-Distribution-API-Version: registry/2.0',
    '',
    body,
  ].join('\r\n');
}

/** Refusals other than a malformed request, by Node's error code. */
const DESCRIPTORS: Record<string, ErrorDescriptor> = {
  HPE_HEADER_OVERFLOW: ERRORS.HEADERS_TOO_LARGE,
  // The head did not arrive within headersTimeout (client-timeouts.ts).
  ERR_HTTP_REQUEST_TIMEOUT: ERRORS.HEAD_TIMEOUT,
};

/** What a request's body stream fails with when the parser refused the rest of it; the refusal is already sent. */
export class MalformedHttpError extends Error {
  constructor(readonly code: string) {
    super(`malformed HTTP request: ${code}`);
    this.name = 'MalformedHttpError';
  }
}

export function answerClientErrors(server: Server | Http2SecureServer, logger: Logger): void {
  const inFlight = new WeakMap<Duplex, { req: IncomingMessage; res: ServerResponse }>();
  server.on('request', (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => {
    // An HTTP/2 stream's socket is its session's, shared by every stream: not one exchange's to answer on.
    if (request instanceof Http2ServerRequest) return;
    const req = request as IncomingMessage;
    const res = response as ServerResponse;
    const exchange = { req, res };
    // Kept: a destroyed body stream detaches req.socket before the response closes.
    const socket = req.socket;
    inFlight.set(socket, exchange);
    res.once('close', () => {
      if (inFlight.get(socket) === exchange) inFlight.delete(socket);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const descriptor = DESCRIPTORS[err.code ?? ''] ?? ERRORS.MALFORMED_REQUEST;
    logger.info({ code: err.code, remoteAddress: (socket as { remoteAddress?: string }).remoteAddress }, 'malformed HTTP request refused');
    const answer = () => socket.end(rawResponse(descriptor, err.code ?? err.message));
    const pending = inFlight.get(socket);
    if (!pending || pending.res.writableFinished) {
      answer();
      return;
    }
    if (!pending.req.complete && !pending.res.headersSent) {
      answer();
      pending.req.destroy(new MalformedHttpError(err.code ?? err.message));
      return;
    }
    const timer = setTimeout(() => socket.destroy(), FINISH_GRACE_MS);
    pending.res.once('finish', () => {
      clearTimeout(timer);
      answer();
    });
    pending.res.once('close', () => clearTimeout(timer));
  });
}
