// Where driver paths live in the bucket. The layout is distribution's s3 driver's: the key of "/docker/registry/v2/x"
// is "<rootdirectory>/docker/registry/v2/x" without the leading slash, so either registry reads the other's bucket.
//
// A writer keeps its multipart state in objects named "<key>~<suffix>". "~" is outside distribution's path grammar
// ([A-Za-z0-9._-] components), so these keys can never be the key of a real path; listings hide them, and deleting a
// path deletes them with it (which is also how upload purging reaches abandoned multipart uploads).

const MARK = '~';

export class KeySpace {
  /** Key prefix of the root "/": "" or "<rootdirectory>/". */
  readonly root: string;
  private readonly base: string;

  constructor(rootdirectory: string) {
    this.base = rootdirectory.replace(/\/+$/, '');
    this.root = this.key('/');
  }

  /** The bucket key of a driver path (distribution's s3Path). */
  key(path: string): string {
    return (this.base + path).replace(/^\/+/, '');
  }

  /** The prefix every key below a directory starts with. */
  dirPrefix(path: string): string {
    return path === '/' ? this.root : `${this.key(path)}/`;
  }

  /** The driver path of a key below the root. */
  path(key: string): string {
    return `/${key.slice(this.root.length)}`;
  }
}

/** Object holding a closed writer's multipart state, next to the (not yet existing) object at `key`. */
export function writerStateKey(key: string): string {
  return `${key}${MARK}writer`;
}

/** Object holding the bytes a closed writer had not yet sent as a part; a new name each session. */
export function writerTailKey(key: string, session: string): string {
  return `${key}${MARK}tail.${session}`;
}

/** Prefix of every writer object of `key`. */
export function writerObjectsPrefix(key: string): string {
  return `${key}${MARK}`;
}

export function isWriterObject(key: string): boolean {
  return key.slice(key.lastIndexOf('/') + 1).includes(MARK);
}

/** The key whose writer state `key` is, or undefined if it is not a writer state. */
export function writerStateOwner(key: string): string | undefined {
  const suffix = `${MARK}writer`;
  return key.endsWith(suffix) && isWriterObject(key) ? key.slice(0, -suffix.length) : undefined;
}
