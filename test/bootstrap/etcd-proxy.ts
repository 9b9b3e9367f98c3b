// A TCP proxy on 127.0.0.1 in front of a real etcd, for the paths to etcd that break one API and not the other: with
// `refuseGrpc` it answers an HTTP/2 connection (gRPC, the v3 API) with an HTTP/1.1 400, as an HTTP/1.1-only proxy or
// load balancer does, and forwards plain HTTP (the v2 API, /version) unchanged. With `serverVersion` it also answers
// GET /version itself, as an etcd 2 server (which has no v3 API) would; no etcd 2 binary can be installed here.
import { connect, createServer, type Socket } from 'node:net';

export interface EtcdProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Switchable while connections come in; a connection already forwarded stays forwarded. */
  refuseGrpc: boolean;
  close(): Promise<void>;
}

const HTTP2_PREFACE = 'PRI * HTTP/2.0';

export async function startEtcdProxy(upstream: string, options: { refuseGrpc?: boolean; serverVersion?: string } = {}): Promise<EtcdProxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const state = { refuseGrpc: options.refuseGrpc ?? false };
  const server = createServer((client) => {
    track(client);
    client.once('data', (first: Buffer) => {
      client.pause();
      const head = first.toString('latin1', 0, 32);
      if (state.refuseGrpc && head.startsWith(HTTP2_PREFACE)) {
        client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      if (options.serverVersion !== undefined && head.startsWith('GET /version ')) {
        const body = JSON.stringify({ etcdserver: options.serverVersion, etcdcluster: options.serverVersion });
        client.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      const up = connect(Number(target.port), target.hostname);
      track(up);
      up.once('close', () => client.destroy());
      client.once('close', () => up.destroy());
      up.write(first);
      client.pipe(up);
      up.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get refuseGrpc() {
      return state.refuseGrpc;
    },
    set refuseGrpc(value: boolean) {
      state.refuseGrpc = value;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
