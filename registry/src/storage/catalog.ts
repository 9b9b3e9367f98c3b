// The repository catalog. A repository is a directory under repositories/ that holds _layers or _manifests;
// names nest ("team/app"), so the catalog is a tree walk in path order, as distribution's is. It pages from
// `last` with listPage at each level, so one page never reads the whole tree (object stores charge per list).
import type { StorageDriver } from './driver/driver.js';
import { isNotFound } from './driver/driver.js';
import { paths } from './paths.js';
import { isValidName } from './reference.js';

const PAGE = 1000;

/** distribution's path order: compare component by component, so "a/b" sorts before "a-b". */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

export class Catalog {
  constructor(private readonly driver: StorageDriver) {}

  /** Repository names after `last` in path order, at most `limit`. */
  async list(last: string, limit: number): Promise<string[]> {
    const out: string[] = [];
    if (limit <= 0) return out;
    await this.visit(paths.repositoriesRoot, '', last === '' ? undefined : last.split('/'), out, limit);
    return out;
  }

  /** Every repository name, for offline tools. */
  async all(): Promise<string[]> {
    return this.list('', Number.MAX_SAFE_INTEGER);
  }

  /**
   * Appends repositories at or below dir to out, in path order. `bound` is what remains of `last` at this level:
   * undefined means no bound; [] means dir itself is `last`, so only its descendants come after it.
   */
  private async visit(dir: string, name: string, bound: string[] | undefined, out: string[], limit: number): Promise<void> {
    if (name !== '' && bound === undefined && (await this.isRepository(dir))) out.push(name);
    let after = '';
    if (bound && bound.length > 0) {
      const [first, ...rest] = bound as [string, ...string[]];
      // `last` comes from the client: a component that is not a valid name was never stored, so there is nothing
      // below it to list, and it must not become a storage path.
      if (isValidName(first)) await this.visit(`${dir}/${first}`, name === '' ? first : `${name}/${first}`, rest, out, limit).catch(ignoreMissing);
      after = first;
    }
    while (out.length < limit) {
      let children: string[];
      try {
        children = await this.driver.listPage(dir, after, PAGE);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const child of children) {
        if (out.length >= limit) return;
        if (child.startsWith('_')) continue;
        await this.visit(`${dir}/${child}`, name === '' ? child : `${name}/${child}`, undefined, out, limit);
      }
      if (children.length < PAGE) return;
      after = children[children.length - 1] as string;
    }
  }

  private async isRepository(dir: string): Promise<boolean> {
    // "_layers" and "_manifests" sort right after "_", before any lowercase repository component.
    const first = await this.driver.listPage(dir, '_', 2).catch((err: unknown): string[] => {
      if (isNotFound(err)) return [];
      throw err;
    });
    return first.includes('_layers') || first.includes('_manifests');
  }
}

function ignoreMissing(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
