// The storage driver contract, modelled on distribution's registry/storage/driver.
// Backends move bytes under slash-separated absolute paths ("/docker/registry/v2/..."); they know nothing of images.
import type { Readable, Writable } from 'node:stream';

export interface FileInfo {
  path: string;
  size: number;
  modTime: Date;
  isDir: boolean;
}

/**
 * A resumable writer. Bytes are durable only after commit(); close() keeps them for a later writer(path, true). A
 * session that fails (write, close or commit throws) leaves the content as the session found it, so a write refused
 * for want of space gives that space back.
 */
export interface FileWriter {
  /** Bytes written so far, including those of earlier sessions when appending. */
  readonly size: number;
  write(chunk: Buffer): Promise<void>;
  /** Ends this session, keeping what was written so that writer(path, true) continues it. */
  close(): Promise<void>;
  /** Discards everything written. */
  cancel(): Promise<void>;
  /** Makes the content visible at the path. The writer is closed afterwards. */
  commit(): Promise<void>;
}

export type WalkDecision = void | 'skip';

export interface StorageDriver {
  /** Driver name as in config.yml: filesystem, inmemory, s3, oss. */
  readonly name: string;
  /** Whole content of a small file (links, manifests, state). Never used for blobs. */
  getContent(path: string): Promise<Buffer>;
  /** Atomically replaces the file at path. */
  putContent(path: string, content: Buffer): Promise<void>;
  /** Streams the file from offset. Throws InvalidOffsetError past the end. */
  reader(path: string, offset?: number): Promise<Readable>;
  /**
   * Optional fast path for serving blobs: writes `length` bytes of the file from `offset` to `out` (not ended), with
   * buffers reused rather than allocated per chunk. Throws PathNotFoundError before writing anything when the file is
   * missing; returns early when `out` is closed by its reader. Callers fall back to reader() when a driver lacks it.
   */
  copyTo?(path: string, offset: number, length: number, out: Writable): Promise<void>;
  /** Opens a writer; with append, continues the content a closed writer left at path. */
  writer(path: string, append: boolean): Promise<FileWriter>;
  stat(path: string): Promise<FileInfo>;
  /** Full paths of the direct children of a directory, sorted. */
  list(path: string): Promise<string[]>;
  /** Moves a file, replacing the destination. */
  move(source: string, dest: string): Promise<void>;
  /** Deletes a file or a whole directory tree. */
  delete(path: string): Promise<void>;
  /** A URL the client may be redirected to for reading path, or undefined if the driver serves bytes itself. */
  redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined>;
  /**
   * Visits every file and directory below path, depth first, in lexical order.
   * Returning 'skip' from a directory visit does not descend into it.
   */
  walk(path: string, visit: (info: FileInfo) => Promise<WalkDecision> | WalkDecision): Promise<void>;
  /**
   * Names (last path element) of the direct children of path that sort after `after`, at most `limit`, sorted.
   * Lets catalog and tag listing page without reading a whole directory on object stores.
   */
  listPage(path: string, after: string, limit: number): Promise<string[]>;
  /**
   * Proves the backend answers as configured (endpoint, bucket, credentials), for backends reached over a network;
   * nothing else contacts the backend before the first operation.
   */
  check?(): Promise<void>;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}

/** Runs the driver's start check, releasing the driver when it fails: for commands that need storage now. */
export async function checked<T extends StorageDriver>(driver: T): Promise<T> {
  try {
    await driver.check?.();
  } catch (err) {
    await driver.close?.();
    throw err;
  }
  return driver;
}

export class PathNotFoundError extends Error {
  constructor(readonly path: string, driver: string) {
    super(`${driver}: path not found: ${path}`);
    this.name = 'PathNotFoundError';
  }
}

export class InvalidPathError extends Error {
  constructor(readonly path: string, driver: string) {
    super(`${driver}: invalid path: ${path}`);
    this.name = 'InvalidPathError';
  }
}

export class InvalidOffsetError extends Error {
  constructor(readonly path: string, readonly offset: number, driver: string) {
    super(`${driver}: invalid offset ${offset} for ${path}`);
    this.name = 'InvalidOffsetError';
  }
}

/**
 * What is wrong with the storage: `full` (no space or quota left: retrying cannot help until an operator frees some),
 * `unreachable` (not reached since the registry started; retried in the background) or `failing` (anything else).
 */
export type StorageFault = 'failing' | 'full' | 'unreachable';

/** errno codes of a backend with no room left. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

function faultOf(cause: unknown): StorageFault {
  for (let err = cause; err instanceof Error; err = err.cause) {
    if (FULL_CODES.has((err as NodeJS.ErrnoException).code ?? '')) return 'full';
  }
  return 'failing';
}

/** The storage itself failed (unreachable, refused, full, erroring): nothing the request did wrong. */
export class StorageError extends Error {
  readonly fault: StorageFault;
  constructor(
    readonly driver: string,
    readonly operation: string,
    cause: unknown,
    fault?: StorageFault,
  ) {
    super(`storage driver ${driver} failed in ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StorageError';
    this.fault = fault ?? faultOf(cause);
  }
}

/** distribution's path grammar: absolute, slash-separated, components of [A-Za-z0-9._-]. */
const PATH_PATTERN = /^(\/[A-Za-z0-9._-]+)+$/;

export function checkPath(path: string, driver: string, allowRoot = false): void {
  if (allowRoot && path === '/') return;
  if (!PATH_PATTERN.test(path) || path.split('/').some((c) => c === '.' || c === '..')) {
    throw new InvalidPathError(path, driver);
  }
}

export function isNotFound(err: unknown): err is PathNotFoundError {
  return err instanceof PathNotFoundError;
}
