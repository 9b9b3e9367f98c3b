// The API's server as http.* configures it: plain HTTP/1.1, or TLS offering HTTP/2 by ALPN beside HTTP/1.1 (as
// distribution does unless http.http2.disabled), or TLS with HTTP/1.1 alone. Whatever the protocol, a drain closes
// connections the same way: HTTP/2 sessions are told GOAWAY, so their clients open no new streams on them.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { answerClientErrors } from './client-error.js';
import type { HttpConfig } from './config/types.js';
import type { Logger } from './log.js';
import { readTlsOptions } from './tls-options.js';

export type RequestHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

export interface ApiServer {
  readonly server: HttpServer | HttpsServer | Http2SecureServer;
  readonly scheme: 'http' | 'https';
  /** What clients may speak, for the start-up log: http/1.1, or h2 and http/1.1. */
  readonly protocols: string[];
  /** Stops accepting connections and sends GOAWAY on HTTP/2 sessions; resolves once every connection has closed. */
  close(): Promise<void>;
  /** Cuts every connection now, busy or not. */
  closeAllConnections(): void;
}

/**
 * HTTP/1.1's connection settings. Large blobs stream for minutes, and Node's default 5-minute request timeout would
 * cut them off. node:http2's HTTP/1.1 fallback reads the same fields from its server, which its typings leave out.
 */
const HTTP1_SETTINGS = { requestTimeout: 0, keepAliveTimeout: 65_000 };

function http1Server(server: HttpServer | HttpsServer, scheme: ApiServer['scheme']): ApiServer {
  Object.assign(server, HTTP1_SETTINGS);
  return {
    server,
    scheme,
    protocols: ['http/1.1'],
    close: () => new Promise((resolve) => server.close(() => resolve())),
    closeAllConnections: () => server.closeAllConnections(),
  };
}

function http2Server(server: Http2SecureServer): ApiServer {
  Object.assign(server, HTTP1_SETTINGS);
  // node:http2 keeps no list of its connections for a drain: every TLS socket (HTTP/1.1 or HTTP/2) and every session.
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    server,
    scheme: 'https',
    protocols: ['h2', 'http/1.1'],
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A graceful close: open streams finish, no new ones start, the session ends after its last stream.
      for (const session of sessions) session.close();
      return closed;
    },
    closeAllConnections() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Creates the server for http (not yet listening); a TLS file that cannot be used is a SettingError. */
export async function createApiServer(http: HttpConfig, handler: RequestHandler, logger: Logger): Promise<ApiServer> {
  let api: ApiServer;
  if (!http.tls) {
    api = http1Server(createHttpServer(handler), 'http');
  } else if (http.http2.disabled) {
    api = http1Server(createHttpsServer(await readTlsOptions(http.tls), handler), 'https');
  } else {
    api = http2Server(createSecureServer({ ...(await readTlsOptions(http.tls)), allowHTTP1: true }, handler));
  }
  answerClientErrors(api.server, logger);
  return api;
}
