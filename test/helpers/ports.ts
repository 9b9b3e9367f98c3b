import { createServer } from 'node:net';

// Ports come from below the kernel's ephemeral range (32768-60999 by default), where the kernel never picks a port
// for an outgoing connection or a bind to port 0: a port from that range, free a moment ago, could be taken by any
// client socket of the run before the server meant to have it bound it. Each mocha worker takes a slice of its own,
// so two test files running side by side never pick the same port.
const FIRST = 20_000;
const SLICE = 2_000;
const SLICES = 6;

const worker = Number(process.env.MOCHA_WORKER_ID ?? process.pid);
const start = FIRST + (worker % SLICES) * SLICE;
let next = 0;

function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port free on 127.0.0.1 now, and not handed out before by this process (until its slice wraps around). Only a
 * process outside the test run could take it before ours binds it (see withPortRetry).
 */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < SLICE; tried++) {
    const port = start + (next++ % SLICE);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${start}-${start + SLICE - 1} on 127.0.0.1`);
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
