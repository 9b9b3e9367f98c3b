// The resumable writer of the S3 driver: bytes stream into a multipart upload one part (chunksize) at a time.
//
// A writer holds at most two parts in memory: the one it fills and the one being uploaded, each reserved from the
// process-wide BufferBudget before it is filled. Its multipart state (upload id, part numbers, ETags and sizes) is an
// object next to the path, written by close(), so writer(path, true) in any process continues the same upload without
// ListMultipartUploads or ListParts. Bytes that do not make a 5 MiB part when a session closes are kept in a small
// "tail" object (S3 takes parts under 5 MiB only as the last one) and become the start of the next part.
import { randomUUID } from 'node:crypto';
import type { FileWriter } from './driver.js';
import { listKeys } from './s3-listing.js';
import { writerObjectsPrefix, writerStateKey, writerTailKey } from './s3-keys.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  deleteObjects,
  getObject,
  getObjectIfExists,
  isMissingObject,
  MIN_PART_SIZE,
  putObject,
  type ObjectStore,
} from './s3-store.js';

interface Part {
  number: number;
  etag: string;
  size: number;
}

interface Tail {
  key: string;
  size: number;
}

/** What close() stores; the writer's size is the sum of its parts and tail. */
interface WriterState {
  version: 1;
  uploadId?: string;
  parts: Part[];
  tail?: Tail;
}

function isPart(value: unknown): value is Part {
  if (typeof value !== 'object' || value === null) return false;
  const part = value as Record<string, unknown>;
  return Number.isSafeInteger(part.number) && typeof part.etag === 'string' && Number.isSafeInteger(part.size);
}

function parseState(raw: Buffer, key: string): WriterState {
  const value: unknown = JSON.parse(raw.toString('utf8'));
  const state = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const tail = state.tail as Record<string, unknown> | undefined;
  const valid =
    state.version === 1 &&
    (state.uploadId === undefined || typeof state.uploadId === 'string') &&
    Array.isArray(state.parts) &&
    state.parts.every(isPart) &&
    (tail === undefined || (typeof tail.key === 'string' && Number.isSafeInteger(tail.size)));
  if (!valid) throw new Error(`writer state ${key} is not one this registry wrote: ${raw.toString('utf8').slice(0, 200)}`);
  return value as WriterState;
}

/** Aborts the multipart upload a saved writer state names; a state already gone is fine. */
export async function abortSavedUpload(store: ObjectStore, stateKey: string, objectKey: string): Promise<void> {
  const raw = await getObjectIfExists(store, stateKey);
  if (raw === undefined) return;
  const { uploadId } = parseState(raw, stateKey);
  if (uploadId !== undefined) await abortMultipartUpload(store, objectKey, uploadId);
}

/** Deletes the state and tail objects of every writer session of `key`, aborting the saved upload if asked. */
async function removeWriterObjects(store: ObjectStore, key: string, abortSaved: boolean): Promise<void> {
  if (abortSaved) await abortSavedUpload(store, writerStateKey(key), key);
  for await (const keys of listKeys(store, writerObjectsPrefix(key))) await deleteObjects(store, keys);
}

export async function openWriter(store: ObjectStore, path: string, append: boolean): Promise<FileWriter> {
  const key = store.keys.key(path);
  if (!append) {
    // A new writer replaces whatever an earlier session left, as the filesystem driver truncates.
    await removeWriterObjects(store, key, true);
    return new S3Writer(store, path, key, { version: 1, parts: [] }, true);
  }
  const saved = await getObjectIfExists(store, writerStateKey(key));
  if (saved !== undefined) return new S3Writer(store, path, key, parseState(saved, writerStateKey(key)), false);
  // No session to continue. Continuing committed bytes would need UploadPartCopy on every append, and the registry
  // never appends to committed content, so that is refused the way distribution's s3 driver refuses it.
  const committed = await store.client.statObject(store.bucket, key).catch((err: unknown) => {
    if (isMissingObject(err)) return undefined;
    throw err;
  });
  if (committed !== undefined && committed.size > 0) {
    throw new Error(`${store.name}: cannot append to ${path}: it holds ${committed.size} committed bytes and no open writer session`);
  }
  return new S3Writer(store, path, key, { version: 1, parts: [] }, true);
}

type Status = 'open' | 'closed' | 'committed' | 'cancelled';

class S3Writer implements FileWriter {
  private status: Status = 'open';
  private uploadId: string | undefined;
  private readonly parts: Part[];
  /** The tail a previous session saved, until this session reads it into its buffer. */
  private savedTail: Tail | undefined;
  /** Tail objects this session has read; deleted once a newer state no longer names them. */
  private readonly readTails: string[] = [];
  private buffer: Buffer | undefined;
  private buffered = 0;
  private inflight: Promise<void> | undefined;
  private failure: { error: unknown; reported: boolean } | undefined;
  /** Bytes in the saved state when this session opened. */
  private readonly savedSize: number;
  private written: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly path: string,
    private readonly key: string,
    state: WriterState,
    /** Whether close() must save a state even if nothing is written (a new writer replaces the old state). */
    private dirty: boolean,
  ) {
    this.uploadId = state.uploadId;
    this.parts = [...state.parts];
    this.savedTail = state.tail;
    this.savedSize = this.parts.reduce((sum, part) => sum + part.size, 0) + (state.tail?.size ?? 0);
    this.written = this.savedSize;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    this.assertOpen();
    this.throwFailure();
    if (chunk.length === 0) return;
    this.dirty = true;
    for (let offset = 0; offset < chunk.length; ) {
      const buffer = await this.fillBuffer();
      const copied = chunk.copy(buffer, this.buffered, offset);
      this.buffered += copied;
      this.written += copied;
      offset += copied;
      if (this.buffered === buffer.length) await this.sendBuffer();
    }
  }

  async close(): Promise<void> {
    this.assertOpen();
    this.status = 'closed';
    try {
      await this.settle();
      if (this.failure) {
        // What this session wrote after the last saved state is lost; the saved state stays valid.
        this.written = this.savedSize;
        this.throwFailure(true);
        return;
      }
      if (!this.dirty) return;
      let tail = this.savedTail;
      if (this.buffered >= MIN_PART_SIZE) {
        await this.sendBuffer();
        await this.settle();
        this.throwFailure();
        tail = undefined;
      } else if (this.buffer) {
        tail = this.buffered === 0 ? undefined : await this.saveTail();
      }
      const state: WriterState = { version: 1, parts: this.parts, ...(this.uploadId ? { uploadId: this.uploadId } : {}), ...(tail ? { tail } : {}) };
      await putObject(this.store, writerStateKey(this.key), Buffer.from(JSON.stringify(state)));
      await this.deleteReadTails();
    } finally {
      this.releaseBuffer();
    }
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.status = 'committed';
    try {
      await this.settle();
      this.throwFailure();
      if (this.savedTail) await this.fillBuffer();
      if (this.uploadId !== undefined && this.parts.length > 0) {
        if (this.buffered > 0) {
          await this.sendBuffer();
          await this.settle();
          this.throwFailure();
        }
        await completeMultipartUpload(this.store, this.key, this.uploadId, this.parts);
      } else {
        await putObject(this.store, this.key, this.buffer ? this.buffer.subarray(0, this.buffered) : Buffer.alloc(0));
        if (this.uploadId !== undefined) await abortMultipartUpload(this.store, this.key, this.uploadId);
      }
      await removeWriterObjects(this.store, this.key, false);
      this.store.logger.debug({ path: this.path, size: this.written, parts: this.parts.length }, 'writer committed');
    } finally {
      this.releaseBuffer();
    }
  }

  async cancel(): Promise<void> {
    this.assertOpen();
    this.status = 'cancelled';
    await this.settle();
    this.releaseBuffer();
    if (this.uploadId !== undefined) await abortMultipartUpload(this.store, this.key, this.uploadId);
    await removeWriterObjects(this.store, this.key, true);
    // Nothing stays at the path, as with the filesystem driver, whose writer works on the file itself.
    await deleteObjects(this.store, [this.key]);
  }

  private assertOpen(): void {
    if (this.status !== 'open') throw new Error(`${this.store.name}: writer for ${this.path} is already ${this.status}`);
  }

  /** Throws a part upload's failure; `unreported` only if no earlier call has thrown it already. */
  private throwFailure(unreported = false): void {
    if (!this.failure || (unreported && this.failure.reported)) return;
    this.failure.reported = true;
    throw this.failure.error;
  }

  private async settle(): Promise<void> {
    if (this.inflight) await this.inflight;
  }

  /** The buffer being filled, reserving a part's worth of budget first; it starts with a saved tail if any. */
  private async fillBuffer(): Promise<Buffer> {
    if (this.buffer) return this.buffer;
    const { budget, chunkSize } = this.store;
    await budget.acquire(chunkSize);
    try {
      const buffer = Buffer.allocUnsafe(chunkSize);
      let buffered = 0;
      if (this.savedTail) {
        const tail = await getObject(this.store, this.savedTail.key);
        if (tail.length !== this.savedTail.size) {
          throw new Error(`${this.store.name}: tail ${this.savedTail.key} of ${this.path} has ${tail.length} bytes, its state says ${this.savedTail.size}`);
        }
        buffered = tail.copy(buffer);
        this.readTails.push(this.savedTail.key);
        this.savedTail = undefined;
      }
      this.buffer = buffer;
      this.buffered = buffered;
      return buffer;
    } catch (err) {
      budget.release(chunkSize);
      throw err;
    }
  }

  private releaseBuffer(): void {
    if (!this.buffer) return;
    this.buffer = undefined;
    this.buffered = 0;
    this.store.budget.release(this.store.chunkSize);
  }

  /** Starts uploading the buffer as the next part; the previous part's upload finishes first. */
  private async sendBuffer(): Promise<void> {
    await this.settle();
    this.throwFailure();
    const buffer = this.buffer as Buffer;
    const body = buffer.subarray(0, this.buffered);
    // The upload owns the buffer and its reservation now; write() reserves a new one for the next part.
    this.buffer = undefined;
    this.buffered = 0;
    const number = this.parts.length + 1;
    this.inflight = this.uploadPart(number, body)
      .then(
        (part) => {
          this.parts.push(part);
        },
        (error: unknown) => {
          this.failure = { error, reported: false };
        },
      )
      .finally(() => {
        this.inflight = undefined;
        this.store.budget.release(this.store.chunkSize);
      });
  }

  private async uploadPart(number: number, body: Buffer): Promise<Part> {
    this.uploadId ??= await createMultipartUpload(this.store, this.key);
    const { etag } = await this.store.client.uploadPart(
      { bucketName: this.store.bucket, objectName: this.key, uploadID: this.uploadId, partNumber: number, headers: {} },
      body,
    );
    return { number, etag, size: body.length };
  }

  private async saveTail(): Promise<Tail> {
    const key = writerTailKey(this.key, randomUUID());
    await putObject(this.store, key, (this.buffer as Buffer).subarray(0, this.buffered));
    return { key, size: this.buffered };
  }

  private async deleteReadTails(): Promise<void> {
    try {
      await deleteObjects(this.store, this.readTails.splice(0));
    } catch (err) {
      // Harmless leftovers: commit, cancel and delete remove every writer object of the path.
      this.store.logger.warn({ path: this.path, err }, 'could not delete a superseded writer tail');
    }
  }
}
