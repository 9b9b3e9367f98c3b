// The API's server as http.* configures it: plain HTTP/1.1, or TLS offering HTTP/2 by ALPN beside HTTP/1.1 (as
// distribution does unless http.http2.disabled), or TLS with HTTP/1.1 alone. Whatever the protocol, a drain closes
// connections the same way: HTTP/2 sessions are told GOAWAY, so their clients open no new streams on them.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { answerClientErrors } from './client-error.js';
import { serverTimeoutOptions, type ClientTimeouts } from './client-timeouts.js';
import type { HttpConfig } from './config/types.js';
import type { Logger } from './log.js';
import type { TlsOptions } from './tls-options.js';

export type RequestHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

export interface ApiServer {
  readonly server: HttpServer | HttpsServer | Http2SecureServer;
  readonly scheme: 'http' | 'https';
  /** What clients may speak, for the start-up log: http/1.1, or h2 and http/1.1. */
  readonly protocols: string[];
  /** Stops accepting connections and sends GOAWAY on HTTP/2 sessions; resolves once every connection has closed. */
  close(): Promise<void>;
  /**
   * Ends connections once no request is in flight: HTTP/1.1 sockets at once (Node marks a socket idle a moment after
   * its last response closes, so it cannot be left to Node); HTTP/2 sessions end themselves after their last stream.
   */
  closeIdleConnections(): void;
  /** Cuts every connection now, busy or not. */
  closeAllConnections(): void;
}

/** HTTP/1.1 keep-alive, longer than the usual client and load-balancer idle timeouts, so they close first. */
const KEEP_ALIVE_MS = 65_000;

/**
 * HTTP/2 limits. Node refuses new streams (ENHANCE_YOUR_CALM) once a session holds more than maxSessionMemory MB,
 * and what a blob GET has written but not yet sent counts: up to two 512 KiB copy buffers per stream
 * (storage/driver/copy-out.ts). Node's 10 MB default refused pulls past about nine at once on one connection, so the
 * limit follows the stream cap instead: 100 streams, as RFC 9113 recommends at least, and their buffers.
 */
const MAX_CONCURRENT_STREAMS = 100;
const MAX_SESSION_MEMORY_MB = MAX_CONCURRENT_STREAMS + 28;
/**
 * Receive windows for uploads. HTTP/2's default of 64 KiB per stream and per connection caps a push at 64 KiB per
 * round trip (6.5 MB/s at 10 ms), where HTTP/1.1 rides TCP's autotuned window; distribution's Go server opens 1 MiB.
 * A stream's window only reopens as the handler reads, so this also bounds what a stalled upload holds in memory.
 */
const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 8 << 20;

function http1Server(server: HttpServer | HttpsServer, scheme: ApiServer['scheme']): ApiServer {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return {
    server,
    scheme,
    protocols: ['http/1.1'],
    close: () => new Promise((resolve) => server.close(() => resolve())),
    closeIdleConnections: () => server.closeAllConnections(),
    closeAllConnections: () => server.closeAllConnections(),
  };
}

function http2Server(server: Http2SecureServer, timeouts: ClientTimeouts): ApiServer {
  // node:http2's HTTP/1.1 fallback reads HTTP/1.1's connection settings from its server, which its typings leave out.
  const { requestTimeout, headersTimeout } = serverTimeoutOptions(timeouts);
  Object.assign(server, { requestTimeout, headersTimeout, keepAliveTimeout: KEEP_ALIVE_MS });
  // node:http2 keeps no list of its connections for a drain: the HTTP/1.1 sockets and the HTTP/2 sessions.
  const http1Sockets = new Set<TLSSocket>();
  const sessions = new Set<ServerHttp2Session>();
  let closing = false;
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return;
    http1Sockets.add(socket);
    socket.once('close', () => http1Sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    session.setLocalWindowSize(CONNECTION_WINDOW);
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A connection accepted just before close() finishes its handshake after it: it gets GOAWAY too.
    if (closing) session.close();
  });
  return {
    server,
    scheme: 'https',
    protocols: ['h2', 'http/1.1'],
    close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A graceful close: open streams finish, no new ones start, the session ends after its last stream.
      for (const session of sessions) session.close();
      return closed;
    },
    closeIdleConnections() {
      for (const socket of http1Sockets) socket.destroy();
    },
    closeAllConnections() {
      for (const socket of http1Sockets) socket.destroy();
      for (const session of sessions) session.destroy();
    },
  };
}

/** Creates the server for http (not yet listening), with the TLS options read from http.tls when it is set. */
export function createApiServer(http: HttpConfig, tls: TlsOptions | undefined, handler: RequestHandler, timeouts: ClientTimeouts, logger: Logger): ApiServer {
  let api: ApiServer;
  if (!tls) {
    api = http1Server(createHttpServer(serverTimeoutOptions(timeouts), handler), 'http');
  } else if (http.http2.disabled) {
    api = http1Server(createHttpsServer({ ...tls, ...serverTimeoutOptions(timeouts) }, handler), 'https');
  } else {
    const options = {
      ...tls,
      allowHTTP1: true,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, initialWindowSize: STREAM_WINDOW },
    };
    api = http2Server(createSecureServer(options, handler), timeouts);
  }
  answerClientErrors(api.server, logger);
  return api;
}
