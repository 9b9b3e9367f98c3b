import { createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago; another process may take it before ours binds (see withPortRetry). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('net server reported no TCP address');
  return address.port;
}

const inUse = /address already in use|EADDRINUSE/i;

/** Runs a startup that picks its own free ports again when it lost the race for one. */
export async function withPortRetry<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !inUse.test(String(err))) throw err;
    }
  }
}
