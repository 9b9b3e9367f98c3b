import { createCipheriv, createHash } from 'node:crypto';

const chunkSize = 1024 * 1024;

/**
 * Deterministic pseudo-random bytes: the AES-256-CTR keystream keyed by sha256(seed), so the same seed gives the same
 * content (shared layers, identical blobs) and different seeds give unrelated content. Yields chunks of up to 1 MiB,
 * so large blobs never sit in memory: `Readable.from(pseudoRandomChunks(seed, size))`.
 */
export function* pseudoRandomChunks(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkSize);
  for (let left = size; left > 0; left -= chunkSize) {
    yield cipher.update(left >= chunkSize ? zeros : zeros.subarray(0, left));
  }
}

/** pseudoRandomChunks joined into one Buffer, for small contents. */
export function pseudoRandomBytes(seed: string, size: number): Buffer {
  return Buffer.concat([...pseudoRandomChunks(seed, size)]);
}
