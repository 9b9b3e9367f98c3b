// node dist/bench/lib/null-server.js PORT BYTES WORKERS: a server that only moves bytes, on WORKERS processes: a PUT's
// body is read and dropped (201), a GET is answered with BYTES bytes from one reused buffer. The fan-out clients
// against it give the clients' own ceiling on this machine: what no registry could beat with these clients.
import cluster from 'node:cluster';
import { createServer, type ServerResponse } from 'node:http';

const [port, bytes, workers] = process.argv.slice(2).map(Number);
if (!port || !bytes || !workers) throw new Error('usage: null-server.js PORT BYTES WORKERS');

const PIECE = Buffer.alloc(512 << 10, 7);

async function send(res: ServerResponse, size: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  for (let left = size; left > 0 && !res.destroyed; left -= PIECE.length) {
    await new Promise<void>((resolve) => res.write(PIECE.subarray(0, Math.min(left, PIECE.length)), () => resolve()));
  }
  res.end();
}

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  createServer((req, res) => {
    if (req.method === 'GET') {
      void send(res, bytes);
      return;
    }
    req.resume();
    req.once('end', () => res.writeHead(201).end());
  }).listen(port, '127.0.0.1');
}
