// A request body that a test holds back mid-stream: the first part goes out at once, the rest only when the test
// releases it, so a signal or a kill reaches the registry while the request is provably in flight.
import { createHash } from 'node:crypto';
import { pseudoRandomChunks } from '../../helpers/content.js';

export interface HeldBody {
  body: ReadableStream<Uint8Array>;
  /** sha256 digest of the whole content, head and tail. */
  digest: string;
  size: number;
  /** Sends the tail and ends the body. */
  release(): void;
}

/** Seeded content of headBytes + tailBytes; the tail waits for release(), which a killed server never sees. */
export function heldBody(seed: string, headBytes: number, tailBytes: number): HeldBody {
  const hash = createHash('sha256');
  for (const chunk of pseudoRandomChunks(seed, headBytes + tailBytes)) hash.update(chunk);
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const content = pseudoRandomChunks(seed, headBytes + tailBytes);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= headBytes) await released;
      const next = content.next();
      if (next.done) {
        controller.close();
        return;
      }
      sent += next.value.length;
      controller.enqueue(next.value);
    },
  });
  return { body, digest: `sha256:${hash.digest('hex')}`, size: headBytes + tailBytes, release };
}

/** fetch options for a streamed request body (Node's fetch needs duplex: 'half' for a stream). */
export function streamed(method: string, body: ReadableStream<Uint8Array>, signal?: AbortSignal): RequestInit {
  return { method, body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' }, ...(signal && { signal }) } as RequestInit;
}
