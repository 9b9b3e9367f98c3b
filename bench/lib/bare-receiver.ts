// node dist/bench/lib/bare-receiver.js PORT DIR: the least any Node server must do with a pushed blob (receive it,
// sha256 it, write it through a WriteStream, fdatasync, answer the digest) and nothing else: no routing, no upload
// state, no links. Pushing to it with the bench's own client measures what Node allows on this machine, which the
// physical ceilings (each measured alone, on an idle core) do not.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { open, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [port, dir] = process.argv.slice(2);
if (!port || !dir) throw new Error('usage: bare-receiver.js PORT DIR');
let received = 0;

const server = createServer((req, res) => {
  if (req.method !== 'PUT') {
    res.end();
    return;
  }
  const path = join(dir, `bare-${received++}`);
  void (async () => {
    const file = await open(path, 'w');
    const out = file.createWriteStream({ autoClose: false, highWaterMark: 1 << 20 });
    const hash = createHash('sha256');
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    await new Promise<void>((resolve) => out.end(resolve));
    await file.datasync();
    // The stream holds the handle: file.close() would wait for it forever, destroying it closes the descriptor.
    await new Promise<void>((resolve) => out.once('close', () => resolve()).destroy());
    await rm(path);
    res.end(`sha256:${hash.digest('hex')}`);
  })().catch((err: Error) => res.destroy(err));
});
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
