// A blob GET that reports what a client actually received: every byte hashed, whether the body ended cleanly or the
// connection was cut, and a hook at the first body byte (for time-to-first-byte checks measured in bytes, not time).
import { createHash } from 'node:crypto';
import { get } from 'node:http';

export interface Received {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  /** sha256:<hex> of what arrived. */
  digest: string;
  /** False when the connection was cut before the body ended. */
  complete: boolean;
}

export function getBlob(url: string, onFirstByte: () => void = () => undefined): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let finished = false;
      const done = (complete: boolean) => {
        if (finished) return;
        finished = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, digest: `sha256:${hash.digest('hex')}`, complete });
      };
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) onFirstByte();
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.once('end', () => done(true));
      res.once('aborted', () => done(false));
      res.once('error', () => done(false));
    });
    req.on('error', reject);
  });
}
