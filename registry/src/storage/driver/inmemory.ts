// A tree of Buffers in process memory with the filesystem driver's semantics: for tests and throwaway registries
// (`storage: inmemory`). Everything is lost when the process exits, and every byte stored is held in memory.
import { Readable } from 'node:stream';
import {
  checkPath,
  InvalidOffsetError,
  PathNotFoundError,
  type FileInfo,
  type FileWriter,
  type StorageDriver,
} from './driver.js';
import { childPath, walkTree, type Visit } from './walk.js';

const NAME = 'inmemory';

interface FileNode {
  kind: 'file';
  data: Buffer;
  modTime: Date;
}

interface DirNode {
  kind: 'dir';
  children: Map<string, Node>;
  modTime: Date;
}

type Node = FileNode | DirNode;

function newDir(): DirNode {
  return { kind: 'dir', children: new Map(), modTime: new Date() };
}

function components(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function toInfo(path: string, node: Node): FileInfo {
  return node.kind === 'file'
    ? { path, size: node.data.length, modTime: node.modTime, isDir: false }
    : { path, size: 0, modTime: node.modTime, isDir: true };
}

export class InMemoryDriver implements StorageDriver {
  readonly name = NAME;
  private readonly root = newDir();

  private find(path: string): Node | undefined {
    let node: Node = this.root;
    for (const name of components(path)) {
      if (node.kind !== 'dir') return undefined;
      const child = node.children.get(name);
      if (!child) return undefined;
      node = child;
    }
    return node;
  }

  private file(path: string): FileNode {
    const node = this.find(path);
    if (node?.kind !== 'file') throw new PathNotFoundError(path, NAME);
    return node;
  }

  private dir(path: string): DirNode {
    const node = this.find(path);
    if (node?.kind !== 'dir') throw new PathNotFoundError(path, NAME);
    return node;
  }

  /** The directory that holds path, created with its ancestors if needed, and the last path component. */
  private parentOf(path: string): { parent: DirNode; name: string } {
    const names = components(path);
    const name = names.pop() as string;
    let parent = this.root;
    for (const [i, component] of names.entries()) {
      const child = parent.children.get(component);
      if (child?.kind === 'file') {
        throw new Error(`${NAME}: /${names.slice(0, i + 1).join('/')} is a file, not a directory`);
      }
      const next = child ?? newDir();
      parent.children.set(component, next);
      parent = next;
    }
    return { parent, name };
  }

  /** Puts a file node at path, refusing to replace a directory as the filesystem's rename would. */
  private place(path: string, node: FileNode): void {
    const { parent, name } = this.parentOf(path);
    if (parent.children.get(name)?.kind === 'dir') throw new Error(`${NAME}: ${path} is a directory`);
    parent.children.set(name, node);
  }

  async getContent(path: string): Promise<Buffer> {
    checkPath(path, NAME);
    return Buffer.from(this.file(path).data);
  }

  async putContent(path: string, content: Buffer): Promise<void> {
    checkPath(path, NAME);
    this.place(path, { kind: 'file', data: Buffer.from(content), modTime: new Date() });
  }

  async reader(path: string, offset = 0): Promise<Readable> {
    checkPath(path, NAME);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOffsetError(path, offset, NAME);
    const { data } = this.file(path);
    if (offset > data.length) throw new InvalidOffsetError(path, offset, NAME);
    const rest = data.subarray(offset);
    return Readable.from(rest.length > 0 ? [rest] : [], { objectMode: false });
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    checkPath(path, NAME);
    const existing = this.find(path);
    let node: FileNode;
    if (append && existing?.kind === 'file') {
      node = existing;
    } else {
      node = { kind: 'file', data: Buffer.alloc(0), modTime: new Date() };
      this.place(path, node);
    }
    return new InMemoryWriter(path, node, () => this.detach(path, node));
  }

  async stat(path: string): Promise<FileInfo> {
    checkPath(path, NAME, true);
    const node = this.find(path);
    if (!node) throw new PathNotFoundError(path, NAME);
    return toInfo(path, node);
  }

  async list(path: string): Promise<string[]> {
    checkPath(path, NAME, true);
    return [...this.dir(path).children.keys()].sort().map((name) => childPath(path, name));
  }

  async listPage(path: string, after: string, limit: number): Promise<string[]> {
    checkPath(path, NAME, true);
    return [...this.dir(path).children.keys()]
      .filter((name) => name > after)
      .sort()
      .slice(0, Math.max(0, limit));
  }

  async move(source: string, dest: string): Promise<void> {
    checkPath(source, NAME);
    checkPath(dest, NAME);
    const node = this.file(source);
    if (source === dest) return;
    this.place(dest, node);
    this.detach(source, node);
  }

  async delete(path: string): Promise<void> {
    checkPath(path, NAME);
    if (!this.find(path)) throw new PathNotFoundError(path, NAME);
    this.detach(path);
  }

  /** Unlinks what is at path, or only `node` when given (a writer must not remove a file that replaced its own). */
  private detach(path: string, node?: Node): void {
    const names = components(path);
    const name = names.pop() as string;
    const parent = this.find(names.length === 0 ? '/' : `/${names.join('/')}`);
    if (parent?.kind !== 'dir') return;
    if (node === undefined || parent.children.get(name) === node) parent.children.delete(name);
  }

  async redirectURL(path: string): Promise<string | undefined> {
    checkPath(path, NAME);
    return undefined;
  }

  async walk(path: string, visit: Visit): Promise<void> {
    checkPath(path, NAME, true);
    await walkTree(
      path,
      async (dir) => [...this.dir(dir).children].map(([name, node]) => toInfo(childPath(dir, name), node)),
      visit,
    );
  }
}

/**
 * Accumulates the chunks of one session in memory (this driver's nature: its storage is memory) and joins them onto
 * the file when the session ends, so an appending writer continues where a closed one stopped.
 */
class InMemoryWriter implements FileWriter {
  private chunks: Buffer[] = [];
  private state: 'open' | 'closed' | 'committed' | 'cancelled' = 'open';
  private written: number;

  constructor(
    private readonly path: string,
    private readonly node: FileNode,
    private readonly discard: () => void,
  ) {
    this.written = node.data.length;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    this.assertOpen();
    this.chunks.push(Buffer.from(chunk));
    this.written += chunk.length;
  }

  async close(): Promise<void> {
    this.end('closed');
  }

  async commit(): Promise<void> {
    this.end('committed');
  }

  async cancel(): Promise<void> {
    this.assertOpen();
    this.state = 'cancelled';
    this.chunks = [];
    this.discard();
  }

  private end(state: 'closed' | 'committed'): void {
    this.assertOpen();
    this.state = state;
    this.node.data = Buffer.concat([this.node.data, ...this.chunks]);
    this.node.modTime = new Date();
    this.chunks = [];
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`${NAME}: writer for ${this.path} is already ${this.state}`);
  }
}
