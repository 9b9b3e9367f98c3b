// The push reference "bare Node" of the report: the bench's client pushing a big blob to bare-receiver.ts.
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { freePort, withPortRetry } from '../../test/helpers/ports.js';
import { httpReady, startNodeProcess } from '../../test/helpers/spawn.js';
import { putFile, type BlobFile } from './blobs.js';
import { Client } from './http.js';
import { mbPerSecond } from './stats.js';

const receiver = fileURLToPath(new URL('./bare-receiver.js', import.meta.url));
const TRIES = 3;

/** Best of a few pushes of `blob` (MB/s), as for the other ceilings: other load only ever lowers a figure. */
export async function measureBarePush(dir: string, blob: BlobFile): Promise<number> {
  const { proc, url } = await withPortRetry(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = await startNodeProcess(receiver, [String(port), dir], {}, httpReady(`${url}/`), { name: 'bare-receiver' });
    return { proc, url };
  });
  const client = new Client(url, 1);
  try {
    let best = 0;
    for (let i = 0; i < TRIES; i++) {
      const started = performance.now();
      const reply = await putFile(client, '/', blob, [200]);
      if (reply.body.toString() !== blob.digest) throw new Error(`bare receiver hashed ${reply.body.toString()}, expected ${blob.digest}`);
      best = Math.max(best, mbPerSecond(blob.size, performance.now() - started));
    }
    return best;
  } finally {
    client.close();
    await proc.stop();
  }
}
