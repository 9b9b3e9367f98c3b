// The fan-out clients' own ceiling: the same client processes pushing to and pulling from null-server.ts, a server
// on every core that only moves bytes. A registry's fan-out figure well below it is the registry's limit, not the
// clients'.
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { freePort, withPortRetry } from '../../test/helpers/ports.js';
import { httpReady, startNodeProcess } from '../../test/helpers/spawn.js';
import type { BlobFile } from './blobs.js';
import { fanOut, type ClientKind } from './fanout.js';

const nullServer = fileURLToPath(new URL('./null-server.js', import.meta.url));
const TRIES = 2;

/** Best of a few runs of each (MB/s): `files` pushed by one client each, and `pullBytes` pulled by `clients` at once. */
export async function measureClientCeilings(kind: ClientKind, files: BlobFile[], clients: number, pullBytes: number): Promise<{ push: number; pull: number }> {
  const { proc, url } = await withPortRetry(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = await startNodeProcess(nullServer, [String(port), String(pullBytes), String(availableParallelism())], {}, httpReady(`${url}/`), {
      name: 'null-server',
    });
    return { proc, url };
  });
  try {
    let push = 0;
    let pull = 0;
    for (let i = 0; i < TRIES; i++) {
      push = Math.max(push, await fanOut(kind, files.map((f, n) => ({ method: 'PUT', url: `${url}/push/${n}`, file: f.path })), 201));
      pull = Math.max(pull, await fanOut(kind, Array.from({ length: clients }, () => ({ method: 'GET', url: `${url}/pull` })), 200));
    }
    return { push, pull };
  } finally {
    await proc.stop();
  }
}
