// node s3rver-launcher.js <s3rver CLI arguments>: s3rver 3.7.1 with these fixes, so the tests get S3's contract.
// - s3rver writes a PUT's body and its metadata file in place (truncate, then write) and answers before the write has
//   ended, so two PUTs of one key interleave and a GET right after a PUT can read a part, or half a metadata file (a
//   500). S3 replaces an object whole: here both go to a temp file beside the target and are renamed over it once
//   written. The temp names lack s3rver's "._S3rver_object" suffix, so listings never show them.
// - s3rver's DELETE removes the object's directories once they look empty, and answers 500 when a concurrent DELETE
//   or PUT under the same prefix got there first (ENOENT, ENOTEMPTY). S3 has no directories: here that tidying
//   tolerates the race.
// - s3rver lists by walking directories (readdir, then stat of each entry), and answers 500 when a DELETE removes an
//   entry in between, even one outside the prefix asked for (a sibling of it). S3 lists what exists: here the walk
//   skips what vanished.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getBucketPath(bucket: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  deleteObject(bucket: string, key: string): Promise<void>;
}


const raced = (err: unknown): boolean => ['ENOENT', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '');

async function replaceFile(path: string, content: string): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}

const require = createRequire(import.meta.url);

/** Entries of a directory with whether each is one; what vanished since the directory was read is left out. */
function* entries(dir: string): Generator<[string, boolean]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (raced(err)) return;
    throw err;
  }
  for (const name of names) {
    const path = posix.join(dir, name);
    try {
      yield [path, statSync(path).isDirectory()];
    } catch (err) {
      if (!raced(err)) throw err;
    }
  }
}

/** Set before the store module is loaded, which takes `walk` from utils when it loads. */
const utils = require('s3rver/lib/utils.js') as { walk: (dir: string, recurse?: (path: string) => boolean) => Generator<string> };
utils.walk = function* walk(dir: string, recurse?: (path: string) => boolean): Generator<string> {
  for (const [path, isDirectory] of entries(dir)) {
    if (!isDirectory) yield path;
    else if (!recurse || recurse(path)) yield* walk(path, recurse);
  }
};

const store = (require('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStore }).prototype;
/** The metadata s3rver keeps of an object: its own allow-list of headers plus every x-amz-meta-*. */
const METADATA_HEADERS = (require('s3rver/lib/models/object.js') as { ALLOWED_METADATA: string[] }).ALLOWED_METADATA;

store.putObject = async function putObject(this: FilesystemStore, object: StoredObject) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const temp = `${objectPath}.${randomUUID()}.tmp`;
  const md5 = createHash('md5');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, measure, createWriteStream(temp));
    await rename(temp, objectPath);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};

store.putMetadata = async function putMetadata(this: FilesystemStore, bucket: string, key: string, metadata: Record<string, string>, md5: string) {
  const kept = Object.fromEntries(Object.entries(metadata).filter(([name]) => METADATA_HEADERS.includes(name) || name.startsWith('x-amz-meta-')));
  if (md5) await replaceFile(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await replaceFile(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept, null, 2));
};


store.deleteObject = async function deleteObject(this: FilesystemStore, bucket: string, key: string) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      unlink(this.getResourcePath(bucket, key, resource)).catch((err: unknown) => {
        if (!raced(err)) throw err;
      }),
    ),
  );
  const parts = key.split('/').slice(0, -1);
  for (; parts.length > 0; parts.pop()) {
    const dir = join(this.getBucketPath(bucket), ...parts);
    try {
      if ((await readdir(dir)).length > 0) return;
      await rmdir(dir);
    } catch (err) {
      if (!raced(err)) throw err;
      return;
    }
  }
};

require('s3rver/bin/s3rver.js');
