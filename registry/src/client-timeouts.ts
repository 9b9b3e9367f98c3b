// Time limits on clients, so that a stalled one cannot hold an upload, its lock or a shutdown: the request head must
// arrive within `headersMs` (slowloris; Node enforces it, given serverTimeoutOptions), and an exchange in which the registry waits on its client (a body that
// stopped arriving, a response the client stopped reading) is cut once no byte has moved for `idleMs`. Time the
// registry itself takes (storage, hashing) never counts: a request is idle only while the next move is the client's.
import { IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import { constants, Http2ServerRequest, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { RequestHandler } from './api-server.js';
import type { Logger } from './log.js';

export interface ClientTimeouts {
  /** The request line and headers must arrive within this. */
  headersMs: number;
  /** A client that moves no byte for this long while the registry waits on it is disconnected. */
  idleMs: number;
  /**
   * The same limit while draining: a stalled client would hold the shutdown (and a restart by bootstrap --watch)
   * while new connections are refused.
   */
  drainIdleMs: number;
}

/**
 * nginx's client_header_timeout and client_body_timeout are 60 s, Apache's header limit 20-40 s; a registry's heads
 * are small, so Apache's floor. A healthy pusher never pauses 5 s.
 */
export const CLIENT_TIMEOUTS: ClientTimeouts = { headersMs: 20_000, idleMs: 60_000, drainIdleMs: 5_000 };

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  socket: Socket;
  read: number;
  written: number;
  /** When a byte last moved, or the registry last had work of its own. */
  since: number;
}

/** An HTTP/1.1 server, or an HTTP/2 one with its HTTP/1.1 fallback. */
interface RequestEmitter {
  on(event: 'request', listener: RequestHandler): unknown;
}

export interface ClientTimeoutsControl {
  /** Applies the shorter drain limit from now on. */
  draining(): void;
  stop(): void;
}

/**
 * What an exchange waits on from its client, if anything: more of the request's body (none has come that the registry
 * has not taken yet), or the taking of what was written to `out` (the socket; over HTTP/2 the stream, whose writes
 * complete only as the client's flow-control window allows).
 */
function waitingOn(body: { done: boolean; buffered: number }, out: { writableLength: number }): 'body' | 'response' | undefined {
  if (!body.done && body.buffered === 0) return 'body';
  if (out.writableLength > 0) return 'response';
  return undefined;
}

/**
 * Over HTTP/2 `complete` turns true only once the request has been read to its end, and the registry does not read
 * the empty body of a GET or a POST: the client's END_STREAM tells that the body is done.
 */
function h2Body(req: Http2ServerRequest, stream: ServerHttp2Stream): { done: boolean; buffered: number } {
  return { done: req.complete || stream.endAfterHeaders || stream.state.remoteClose === 1, buffered: req.readableLength + stream.readableLength };
}

/** `remoteAddress` comes from the caller: a destroyed HTTP/1.1 request no longer has its socket. */
function stallFields(req: IncomingMessage | Http2ServerRequest, reqId: unknown, remoteAddress: string | undefined, waiting: string, idleMs: number): Record<string, unknown> {
  return { reqId, method: req.method, url: req.url, remoteAddress, waitingOn: waiting, idleMs };
}

const STALLED = 'client stalled: connection closed';

/** Node's own limits, as options of createServer: the head deadline, and no limit on a whole request. */
export function serverTimeoutOptions(timeouts: ClientTimeouts): Pick<ServerOptions, 'requestTimeout' | 'headersTimeout' | 'connectionsCheckingInterval'> {
  return {
    // Large blobs stream for minutes: Node's 5-minute limit on a whole request would cut them; idleness is the limit.
    requestTimeout: 0,
    headersTimeout: timeouts.headersMs,
    // Node checks head deadlines only this often (30 s by default, so a slowloris client lived 87 s).
    connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(timeouts.headersMs / 4))),
  };
}

/**
 * Cuts clients that stall mid-exchange; serverTimeoutOptions covers the head. Over HTTP/1.1 the connection's byte
 * counts tell whether it moved; a sweep closes the connection. An HTTP/2 stream shares its socket with the session's
 * other streams, so its own timer (node:http2 restarts it whenever the stream reads or sends) tells, and only that
 * stream is reset (RST_STREAM CANCEL): the session's other requests go on.
 */
export function enforceClientTimeouts(server: RequestEmitter, timeouts: ClientTimeouts, logger: Logger): ClientTimeoutsControl {
  const exchanges = new Set<Exchange>();
  const streams = new Set<ServerHttp2Stream>();
  let limit = timeouts.idleMs;
  server.on('request', (req, res) => {
    if (req instanceof Http2ServerRequest) {
      watchStream(req, req.stream, () => res.getHeader('x-request-id'));
      return;
    }
    const response = res as ServerResponse;
    // Kept here: a destroyed request detaches its socket.
    const socket = req.socket;
    const exchange = { req, res: response, socket, read: socket.bytesRead, written: socket.bytesWritten, since: Date.now() };
    exchanges.add(exchange);
    response.once('close', () => exchanges.delete(exchange));
  });

  function watchStream(req: Http2ServerRequest, stream: ServerHttp2Stream, reqId: () => unknown): void {
    streams.add(stream);
    stream.once('close', () => streams.delete(stream));
    stream.on('timeout', () => {
      const waiting = waitingOn(h2Body(req, stream), stream);
      // The registry's own time (storage, hashing): the client gets another whole period from now.
      if (!waiting) return void stream.setTimeout(limit);
      streams.delete(stream);
      logger.warn({ ...stallFields(req, reqId(), req.socket?.remoteAddress, waiting, limit), protocol: 'h2' }, STALLED);
      stream.close(constants.NGHTTP2_CANCEL);
    });
    stream.setTimeout(limit);
  }

  const sweep = (): void => {
    const now = Date.now();
    for (const exchange of exchanges) {
      const { req, res, socket } = exchange;
      const waiting = waitingOn({ done: req.complete, buffered: req.readableLength }, socket);
      if (!waiting || socket.bytesRead !== exchange.read || socket.bytesWritten !== exchange.written) {
        exchange.read = socket.bytesRead;
        exchange.written = socket.bytesWritten;
        exchange.since = now;
        continue;
      }
      if (now - exchange.since < limit) continue;
      exchanges.delete(exchange);
      logger.warn(stallFields(req, res.getHeader('x-request-id'), socket.remoteAddress, waiting, limit), STALLED);
      socket.destroy();
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearInterval(timer);
    timer = setInterval(sweep, Math.min(1_000, Math.max(10, Math.floor(limit / 4)))).unref();
  };
  schedule();
  return {
    draining() {
      limit = Math.min(limit, timeouts.drainIdleMs);
      schedule();
      for (const stream of streams) stream.setTimeout(limit);
    },
    stop: () => clearInterval(timer),
  };
}
