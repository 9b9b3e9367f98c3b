// Blob uploads, kept in storage under _uploads/<uuid> so that any replica sharing the backend can take the next
// chunk, and a restart loses nothing. Bytes are hashed as they stream in; the running hash is an in-process
// shortcut only: when another process wrote part of the upload, the digest is computed from storage instead.
import { randomUUID, type Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { RegistryError } from '../errcode.js';
import type { BlobStore } from './blobs.js';
import type { LayerLinks } from './layers.js';
import { formatDigest, newHash, type Digest } from './digest.js';
import { isNotFound, type FileWriter, type StorageDriver } from './driver/driver.js';
import { deleteIfExists } from './links.js';
import { paths } from './paths.js';
import { BoundedMap } from './bounded-map.js';

export interface UploadStatus {
  uuid: string;
  /** Bytes received so far. */
  size: number;
}

/** An inclusive byte range from a Content-Range header. */
export interface ChunkRange {
  start: number;
  end: number;
}

interface RunningHash {
  size: number;
  hash: Hash;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadStore {
  /** sha256 state per upload, valid only while its size equals the stored size. */
  private readonly running = new BoundedMap<string, RunningHash>(10_000);
  /** Serialises requests on one upload within this process. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly layers: LayerLinks,
  ) {}

  async start(name: string): Promise<UploadStatus> {
    const uuid = randomUUID();
    await this.driver.putContent(paths.uploadStartedAt(name, uuid), Buffer.from(new Date().toISOString()));
    const writer = await this.driver.writer(paths.uploadData(name, uuid), false);
    await writer.close();
    this.running.set(uuid, { size: 0, hash: newHash('sha256') });
    return { uuid, size: 0 };
  }

  async status(name: string, uuid: string): Promise<UploadStatus> {
    return this.locked(uuid, async () => {
      const writer = await this.open(name, uuid);
      await writer.close();
      return { uuid, size: writer.size };
    });
  }

  /** Appends a chunk. With a range, the chunk must start where the upload ends (else 416 RANGE_INVALID). */
  async append(name: string, uuid: string, body: AsyncIterable<Buffer>, range?: ChunkRange): Promise<UploadStatus> {
    return this.locked(uuid, async () => {
      const writer = await this.open(name, uuid);
      if (range && range.start !== writer.size) {
        await writer.close();
        throw new RegistryError(
          'RANGE_INVALID',
          `chunk starts at byte ${range.start} but the upload has ${writer.size} bytes: send the chunk starting at ${writer.size} (GET the upload URL to read its Range)`,
          { uploaded: writer.size, start: range.start },
        );
      }
      await this.stream(uuid, writer, body);
      await writer.close();
      return { uuid, size: writer.size };
    });
  }

  /**
   * Appends an optional last chunk, verifies the digest, moves the data into blobs/ and links the blob into the
   * repository (one write, guarded against a garbage collection). On a digest mismatch the upload is discarded and
   * nothing is stored.
   */
  async complete(name: string, uuid: string, expected: Digest, body?: AsyncIterable<Buffer>): Promise<number> {
    return this.locked(uuid, async () => {
      const writer = await this.open(name, uuid);
      if (body) await this.stream(uuid, writer, body);
      const size = writer.size;
      const running = this.running.get(uuid);
      this.running.delete(uuid);
      await writer.commit();
      const dataPath = paths.uploadData(name, uuid);
      const actual =
        running && running.size === size && expected.algorithm === 'sha256'
          ? running.hash.digest('hex')
          : await this.hashStored(dataPath, expected);
      if (actual !== expected.hex) {
        await deleteIfExists(this.driver, paths.uploadDir(name, uuid));
        throw new RegistryError(
          'DIGEST_INVALID',
          `uploaded content has digest ${expected.algorithm}:${actual}, not ${formatDigest(expected)}: the upload was discarded, push the blob again`,
          { expected: formatDigest(expected), actual: `${expected.algorithm}:${actual}` },
        );
      }
      await this.layers.commitAndLink(name, expected, () => this.blobs.commit(expected, dataPath, size));
      await deleteIfExists(this.driver, paths.uploadDir(name, uuid));
      return size;
    });
  }

  async cancel(name: string, uuid: string): Promise<void> {
    await this.locked(uuid, async () => {
      await this.requireStarted(name, uuid);
      this.running.delete(uuid);
      await this.driver.delete(paths.uploadDir(name, uuid));
    });
  }

  private async open(name: string, uuid: string): Promise<FileWriter> {
    await this.requireStarted(name, uuid);
    return this.driver.writer(paths.uploadData(name, uuid), true);
  }

  private async requireStarted(name: string, uuid: string): Promise<void> {
    const unknown = () =>
      new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${uuid} of ${name} is unknown: it finished, was cancelled or purged; start a new one with POST /v2/${name}/blobs/uploads/`);
    if (!UUID_PATTERN.test(uuid)) throw unknown();
    try {
      await this.driver.stat(paths.uploadStartedAt(name, uuid));
    } catch (err) {
      if (isNotFound(err)) throw unknown();
      throw err;
    }
  }

  private async stream(uuid: string, writer: FileWriter, body: AsyncIterable<Buffer>): Promise<void> {
    const running = this.running.get(uuid);
    const hash = running && running.size === writer.size ? running.hash : undefined;
    this.running.delete(uuid);
    try {
      for await (const chunk of body) {
        await writer.write(chunk);
        hash?.update(chunk);
      }
    } catch (err) {
      // Keep what arrived, so the client can resume from the Range a GET reports.
      await writer.close();
      throw err;
    }
    if (hash) this.running.set(uuid, { size: writer.size, hash });
  }

  private async hashStored(path: string, expected: Digest): Promise<string> {
    const hash = newHash(expected.algorithm);
    await pipeline(
      await this.driver.reader(path, 0),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback();
        },
      }),
    );
    return hash.digest('hex');
  }

  private async locked<T>(uuid: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(uuid) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.locks.set(uuid, current);
    try {
      return await current;
    } finally {
      if (this.locks.get(uuid) === current) this.locks.delete(uuid);
    }
  }
}
