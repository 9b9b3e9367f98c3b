// node s3rver-launcher.js <s3rver CLI arguments>: s3rver 3.7.1 with one fix, so the tests get S3's contract. s3rver
// writes a PUT's body in place (truncate, then write) and answers before the write has ended, so two PUTs of one key
// interleave and a GET right after a PUT can read a part. S3 replaces an object whole: here the body goes to a temp
// file beside the object and is renamed over it once written. The temp name lacks s3rver's "._S3rver_object"
// suffix, so listings never show it.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
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
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

const require = createRequire(import.meta.url);
const store = (require('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStore }).prototype;

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

require('s3rver/bin/s3rver.js');
