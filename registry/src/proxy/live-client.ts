// The first client of a cold blob, fed while the blob arrives from the upstream. It is kept one chunk behind what the
// upload received, so its last bytes leave only after the digest was verified and the blob committed: a mismatch cuts
// its connection short of the whole blob. A client that falls behind is not waited for (the upload, and every other
// client waiting on it, would go at its pace) nor buffered for: it gets the rest from storage after the commit.
import type { Context } from '../api/context.js';
import type { BlobStore } from '../storage/blobs.js';
import type { Digest } from '../storage/digest.js';

/** Bytes queued on a client's socket past which it reads the rest from storage instead. */
const LAG_LIMIT = 4 * 1024 * 1024;

export class LiveClient {
  private held: Buffer | undefined;
  /** Bytes written to the client so far, in order. */
  private sent = 0;
  /** Still fed as bytes arrive; once false, the rest comes from storage. */
  private live = true;
  private begun = false;

  constructor(
    private readonly ctx: Context,
    private readonly headers: Record<string, string>,
  ) {}

  /** Whether the client has its status line: from then on a failure can only cut its connection. */
  get started(): boolean {
    return this.begun;
  }

  /** Sends status and headers the moment the upstream answered, before any byte of the blob. */
  begin(size: number | undefined): void {
    const { ctx } = this;
    ctx.set(this.headers);
    ctx.type = 'application/octet-stream';
    if (size !== undefined) ctx.length = size;
    ctx.status = 200;
    ctx.respond = false;
    this.begun = true;
    // A client that left already is not written to; the fetch goes on for the others.
    if (ctx.res.destroyed) {
      this.live = false;
      return;
    }
    ctx.res.writeHead(200);
    ctx.res.flushHeaders();
  }

  push(chunk: Buffer): void {
    if (this.held) this.write(this.held);
    this.held = chunk;
  }

  /** After the commit: whatever the client has not had yet, from storage. */
  async finish(blobs: BlobStore, digest: Digest, size: number): Promise<void> {
    const res = this.ctx.res;
    this.held = undefined;
    if (res.destroyed) return;
    if (size > this.sent) await blobs.send(digest, this.sent, size - this.sent, res);
    if (!res.destroyed) res.end();
  }

  /** The fetch failed after the status line went out: a cut connection is the only way to say so. */
  fail(): void {
    this.held = undefined;
    this.ctx.res.destroy();
  }

  private write(chunk: Buffer): void {
    const res = this.ctx.res;
    if (!this.live) return;
    if (res.destroyed || res.writableLength > LAG_LIMIT) {
      this.live = false;
      return;
    }
    res.write(chunk);
    this.sent += chunk.length;
  }
}
