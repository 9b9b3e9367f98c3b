// One checksum for a whole storage tree, so a test can prove that a run of requests left everything stored as it
// was. Upload state (`_uploads`) is excluded: an abandoned upload is allowed to linger until it is purged.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface TreeChecksum {
  /** sha256 over every counted file's relative path and content digest, in path order. */
  digest: string;
  /** Relative paths of the counted files, sorted; a diff of two lists names what changed. */
  files: string[];
}

function isUploadState(path: string): boolean {
  return path.split(sep).includes('_uploads');
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checksums the regular files under root (empty directories left behind by a cancelled upload are not content).
 * Symbolic links and other non-regular files are counted by name, so their appearance changes the checksum too.
 */
export async function treeChecksum(root: string): Promise<TreeChecksum> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const counted = entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => ({ entry, path: relative(root, join(entry.parentPath, entry.name)) }))
    .filter(({ path }) => !isUploadState(path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const tree = createHash('sha256');
  for (const { entry, path } of counted) {
    const content = entry.isFile() ? await fileDigest(join(root, path)) : 'not a regular file';
    tree.update(`${path}\0${content}\n`);
  }
  return { digest: tree.digest('hex'), files: counted.map(({ path }) => path) };
}
