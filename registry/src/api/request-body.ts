// An upload chunk's body as the upload store reads it. Iterating a request directly destroys it when the reader
// stops early (a storage failure mid-chunk), which detaches its socket: the refusal could not be addressed (Koa reads
// the protocol from that socket) and the access log crashed the process on it. This reads through one iterator that
// stopping leaves alone, drops the rest of a refused body, and lets a cancel stop a chunk stuck mid-stream.
import type { IncomingMessage } from 'node:http';
import type { ChunkSource } from '../storage/uploads.js';
import { drain } from './http-input.js';

export class RequestBody implements ChunkSource {
  private chunks: AsyncIterator<Buffer> | undefined;

  constructor(private readonly req: IncomingMessage) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // No return(): a for-await that stops early must not destroy the request.
    return { next: () => this.iterator().next() };
  }

  abort(reason: Error): void {
    this.req.destroy(reason);
  }

  /**
   * After a refusal: reads and drops what is left of a body already being read, so the client still sending gets
   * the answer rather than a reset; false when it gave up (the body is larger than is worth reading) and the
   * connection must close after the answer. A body never read is Node's to discard.
   */
  async discardRest(): Promise<boolean> {
    if (!this.chunks || this.req.complete || this.req.destroyed) return true;
    return drain(this.chunks, 0);
  }

  private iterator(): AsyncIterator<Buffer> {
    this.chunks ??= (this.req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    return this.chunks;
  }
}
