// The traversal order every driver's walk() promises, written once; each driver only says how to read a directory.
import { isNotFound, type FileInfo, type WalkDecision } from './driver.js';

/** The entries of one directory, in any order; PathNotFoundError when the directory does not exist. */
export type ReadDirectory = (dir: string) => Promise<FileInfo[]>;

export type Visit = (info: FileInfo) => Promise<WalkDecision> | WalkDecision;

/** The storage path of `name` inside `dir`, where dir may be the root "/". */
export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function byPath(a: FileInfo, b: FileInfo): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Depth first, lexical order (byte order: every valid path is ASCII), a directory before its children. */
export async function walkTree(dir: string, readDirectory: ReadDirectory, visit: Visit): Promise<void> {
  await visitAll(await readDirectory(dir), readDirectory, visit);
}

async function visitAll(entries: FileInfo[], readDirectory: ReadDirectory, visit: Visit): Promise<void> {
  entries.sort(byPath);
  for (const info of entries) {
    const decision = await visit(info);
    if (info.isDir && decision !== 'skip') await visitAll(await readIfPresent(info.path, readDirectory), readDirectory, visit);
  }
}

// A directory removed after its parent was read (an upload purged during garbage collection) is simply gone; errors
// thrown by a visit are not caught here, so they always reach the caller.
async function readIfPresent(dir: string, readDirectory: ReadDirectory): Promise<FileInfo[]> {
  try {
    return await readDirectory(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
