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

/** The bytes of a chunk, as they arrive, and a way to stop them mid-stream. */
export interface ChunkSource extends AsyncIterable<Buffer> {
  /** Ends the chunk with `reason`: the iteration rejects with it. */
  abort(reason: Error): void;
}

/** A chunk being received, and the size its upload had before it. */
interface ChunkInFlight {
  sizeBefore: number;
  body: ChunkSource;
}

function inFlightKey(name: string, uuid: string): string {
  return `${name}/${uuid}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadStore {
  /** sha256 state per upload, valid only while its size equals the stored size. */
  private readonly running = new BoundedMap<string, RunningHash>(10_000);
  /** Serialises requests on one upload within this process. */
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * Chunks streaming in, by repository and uuid: a chunk holds its upload's lock for as long as its client takes, so
   * status answers from here and cancel stops the chunk instead of queueing behind it.
   */
  private readonly inFlight = new Map<string, ChunkInFlight>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly layers: LayerLinks,
  ) {}

  async start(name: string): Promise<UploadStatus> {
    const uuid = randomUUID();
    try {
      await this.driver.putContent(paths.uploadStartedAt(name, uuid), Buffer.from(new Date().toISOString()));
      const writer = await this.driver.writer(paths.uploadData(name, uuid), false);
      await writer.close();
    } catch (err) {
      // No client learns this uuid, so no cancel would ever remove what was written.
      await this.discard(name, uuid);
      throw err;
    }
    this.running.set(uuid, { size: 0, hash: newHash('sha256') });
    return { uuid, size: 0 };
  }

  /** A whole blob in one request (POST ?digest=): whatever fails, nothing of it stays in _uploads. */
  async upload(name: string, expected: Digest, body: ChunkSource): Promise<number> {
    const { uuid } = await this.start(name);
    try {
      return await this.complete(name, uuid, expected, body);
    } catch (err) {
      await this.discard(name, uuid);
      throw err;
    }
  }

  async status(name: string, uuid: string): Promise<UploadStatus> {
    const chunk = this.inFlight.get(inFlightKey(name, uuid));
    if (chunk) return { uuid, size: chunk.sizeBefore };
    return this.locked(uuid, async () => {
      const writer = await this.open(name, uuid);
      await writer.close();
      return { uuid, size: writer.size };
    });
  }

  /** Appends a chunk. With a range, the chunk must start where the upload ends (else 416 RANGE_INVALID). */
  async append(name: string, uuid: string, body: ChunkSource, range?: ChunkRange): Promise<UploadStatus> {
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
      await this.stream(name, uuid, writer, body);
      await writer.close();
      return { uuid, size: writer.size };
    });
  }

  /**
   * Appends an optional last chunk, verifies the digest, moves the data into blobs/ and links the blob into the
   * repository (one write, guarded against a garbage collection). On a digest mismatch the upload is discarded and
   * nothing is stored.
   */
  async complete(name: string, uuid: string, expected: Digest, body?: ChunkSource): Promise<number> {
    return this.locked(uuid, async () => {
      const writer = await this.open(name, uuid);
      if (body) await this.stream(name, uuid, writer, body);
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
    this.inFlight
      .get(inFlightKey(name, uuid))
      ?.body.abort(new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${uuid} of ${name} was cancelled while this chunk was arriving`));
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

  private async stream(name: string, uuid: string, writer: FileWriter, body: ChunkSource): Promise<void> {
    const running = this.running.get(uuid);
    const hash = running && running.size === writer.size ? running.hash : undefined;
    this.running.delete(uuid);
    const key = inFlightKey(name, uuid);
    this.inFlight.set(key, { sizeBefore: writer.size, body });
    try {
      for await (const chunk of body) {
        await writer.write(chunk);
        hash?.update(chunk);
      }
    } catch (err) {
      // Keep what arrived, so the client can resume from the Range a GET reports. When storage failed, the writer
      // gives back this chunk's bytes instead and its failure is the one to report.
      await writer.close();
      throw err;
    } finally {
      this.inFlight.delete(key);
    }
    if (hash) this.running.set(uuid, { size: writer.size, hash });
  }

  /** Removes an upload after a failure; storage that just failed may refuse this too, and the collector ends it. */
  private async discard(name: string, uuid: string): Promise<void> {
    this.running.delete(uuid);
    await deleteIfExists(this.driver, paths.uploadDir(name, uuid)).catch(() => undefined);
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
