// Directories on an object store are key prefixes. This module turns ListObjectsV2 pages into the driver's listings,
// hiding writer objects, in the byte order of names that every driver promises.
//
// Listings are flat (no delimiter): a directory is known from the first key below it, and the listing then jumps past
// the rest of that directory with StartAfter, so a page costs about one request per large directory and never reads a
// whole subtree. Delimiter listings would be fewer requests on AWS, but s3rver reports a common prefix only for a
// directory that holds objects directly, so "tags/v1/" (holding only "current/link") would vanish there.
//
// S3 returns keys in byte order, where a directory "a" sorts as "a/" and so after its siblings "a-b" and "a.c"; names
// sort "a" first. listPage and walk correct for that without reading more of the bucket than they must.
import { PathNotFoundError, type FileInfo, type WalkDecision } from './driver.js';
import { isWriterObject } from './s3-keys.js';
import type { ObjectStore } from './s3-store.js';
import { childPath, walkTree } from './walk.js';

/** S3 answers at most this many keys a page. */
const PAGE = 1000;

const EPOCH = new Date(0);

/**
 * Sorts after every key below a directory: keys are ASCII path characters (up to "_" and "z") and writer objects'
 * "~" never starts a path component, so "<dir>/~" is past all of "<dir>/...".
 */
const PAST_DIRECTORY = '/~';

interface ObjectEntry {
  key: string;
  size: number;
  modTime: Date;
}

interface Page {
  objects: ObjectEntry[];
  truncated: boolean;
}

async function listObjects(store: ObjectStore, prefix: string, startAfter: string): Promise<Page> {
  const res = await store.client.listObjectsV2Query(store.bucket, prefix, '', '', PAGE, startAfter);
  const objects: ObjectEntry[] = [];
  for (const item of res.objects) {
    if (item.name !== undefined) objects.push({ key: String(item.name), size: Number(item.size), modTime: item.lastModified });
  }
  // s3rver walks its directories in its own order; S3's is byte order, which the rest of this module relies on.
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { objects, truncated: Boolean(res.isTruncated) };
}

/** Keys that stand for no file: writer objects and the folder markers some consoles create. */
function isVisible(key: string): boolean {
  return !isWriterObject(key) && !key.endsWith('/');
}

/** Every key starting with prefix, a page at a time, writer objects included. */
export async function* listKeys(store: ObjectStore, prefix: string): AsyncGenerator<string[]> {
  for (let startAfter = ''; ; ) {
    const page = await listObjects(store, prefix, startAfter);
    yield page.objects.map((object) => object.key);
    const last = page.objects[page.objects.length - 1];
    if (!page.truncated || !last) return;
    startAfter = last.key;
  }
}

/** Whether any visible object exists below prefix. */
export async function hasObjectsBelow(store: ObjectStore, prefix: string): Promise<boolean> {
  for await (const keys of listKeys(store, prefix)) if (keys.some(isVisible)) return true;
  return false;
}

interface Child {
  name: string;
  info: FileInfo;
}

/**
 * The direct children of the directory with key prefix `prefix` whose keys sort after `startAfter`, a page at a time,
 * each page with the key up to which the directory has been read.
 */
async function* childPages(store: ObjectStore, prefix: string, startAfter: string): AsyncGenerator<{ children: Child[]; cursor: string }> {
  for (let cursor = startAfter; ; ) {
    const page = await listObjects(store, prefix, cursor);
    const children = new Map<string, Child>();
    for (const object of page.objects) {
      if (!isVisible(object.key)) continue;
      const rest = object.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = slash === -1 ? rest : rest.slice(0, slash);
      const path = store.keys.path(prefix + name);
      children.set(name, {
        name,
        info: slash === -1 ? { path, size: object.size, modTime: object.modTime, isDir: false } : { path, size: 0, modTime: EPOCH, isDir: true },
      });
    }
    const last = page.objects[page.objects.length - 1];
    if (last) {
      const rest = last.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      // The rest of a directory the page ended in would only name that directory again.
      cursor = slash === -1 ? last.key : prefix + rest.slice(0, slash) + PAST_DIRECTORY;
    }
    yield { children: [...children.values()], cursor };
    if (!page.truncated || !last) return;
  }
}

function byPath(a: FileInfo, b: FileInfo): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The direct children of a directory, sorted; PathNotFoundError when it holds nothing (except for the root). */
export async function listChildren(store: ObjectStore, path: string): Promise<FileInfo[]> {
  const children = new Map<string, FileInfo>();
  for await (const page of childPages(store, store.keys.dirPrefix(path), '')) {
    for (const child of page.children) children.set(child.name, child.info);
  }
  if (children.size === 0 && path !== '/') throw new PathNotFoundError(path, store.name);
  return [...children.values()].sort(byPath);
}

/**
 * The greatest key a name can have among names sorting at or before `name`: a directory "v1" sorts before its sibling
 * "v1.2" but is listed as "v1/...", after it. Once a listing has passed this key, no smaller name can still come.
 */
function listedBound(name: string): string {
  const cut = name.search(/[-.]/);
  return `${cut === -1 ? name : name.slice(0, cut)}${PAST_DIRECTORY}`;
}

/** Names after `after` in a directory, at most limit, reading only as many pages as the answer needs. */
export async function listNamesAfter(store: ObjectStore, path: string, after: string, limit: number): Promise<string[]> {
  const prefix = store.keys.dirPrefix(path);
  const found = new Set<string>();
  // Every name after `after` has a key after prefix + after (a directory "after" itself is filtered out below).
  for await (const page of childPages(store, prefix, after === '' ? '' : prefix + after)) {
    for (const child of page.children) if (child.name > after) found.add(child.name);
    if (found.size >= limit) {
      const last = [...found].sort()[Math.max(limit, 1) - 1] as string;
      if (page.cursor >= prefix + listedBound(last)) break;
    }
  }
  if (found.size === 0 && path !== '/' && !(await hasObjectsBelow(store, prefix))) throw new PathNotFoundError(path, store.name);
  return [...found].sort().slice(0, Math.max(limit, 0));
}

/**
 * walk() on the shared depth-first traversal. A directory's whole subtree is read with flat listings when it fits in
 * one page (one request for a blob directory or a small repository); bigger trees are split one level at a time, so
 * memory stays at a page per level and names come out in byte order, not S3's key order.
 */
export async function walkObjects(
  store: ObjectStore,
  path: string,
  visit: (info: FileInfo) => Promise<WalkDecision> | WalkDecision,
): Promise<void> {
  const cached = new Map<string, FileInfo[]>();
  await walkTree(
    path,
    async (dir) => {
      const children = cached.get(dir);
      if (children) {
        cached.delete(dir);
        return children;
      }
      // Depth first: a directory outside the cached subtree means that subtree is finished (or skipped).
      cached.clear();
      const page = await listObjects(store, store.keys.dirPrefix(dir), '');
      if (page.truncated) return listChildren(store, dir);
      const tree = subtree(store, dir, page.objects.filter((object) => isVisible(object.key)));
      const top = tree.get(dir);
      if (!top) {
        if (dir === '/') return [];
        throw new PathNotFoundError(dir, store.name);
      }
      for (const [child, entries] of tree) if (child !== dir) cached.set(child, entries);
      return top;
    },
    visit,
  );
}

/** The children of every directory below dir, from the flat listing of all its objects. */
function subtree(store: ObjectStore, dir: string, objects: ObjectEntry[]): Map<string, FileInfo[]> {
  const tree = new Map<string, Map<string, FileInfo>>();
  const add = (parent: string, info: FileInfo) => {
    const children = tree.get(parent) ?? new Map<string, FileInfo>();
    children.set(info.path, info);
    tree.set(parent, children);
  };
  const base = dir === '/' ? '' : dir;
  for (const object of objects) {
    const path = store.keys.path(object.key);
    const names = path.slice(base.length + 1).split('/');
    let parent = dir;
    for (const name of names.slice(0, -1)) {
      const child = childPath(parent, name);
      add(parent, { path: child, size: 0, modTime: EPOCH, isDir: true });
      parent = child;
    }
    add(parent, { path, size: object.size, modTime: object.modTime, isDir: false });
  }
  return new Map([...tree].map(([parent, children]) => [parent, [...children.values()]]));
}
