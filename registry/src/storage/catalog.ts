// The repository catalog. A repository is a directory under repositories/ that holds _layers or _manifests;
// names nest ("team/app"), so the catalog is a tree walk in path order, as distribution's is. It pages from
// `last` with listPage at each level, so one page never reads the whole tree (object stores charge per list).
import type { StorageDriver } from './driver/driver.js';
import { isNotFound } from './driver/driver.js';
import { paths } from './paths.js';
import { isValidName } from './reference.js';

const PAGE = 1000;
/** Repository directories listed ahead of the walk: it is one small listing per repository, so it waits on latency. */
const READ_AHEAD = 16;

/**
 * A function giving the result of start(items[i]), having started the calls for the next `window` items so that
 * their latencies overlap. A call that is never asked for may fail unobserved.
 */
function readAhead<T, R>(items: readonly T[], start: (item: T) => Promise<R>, window: number): (i: number) => Promise<R> {
  const started: Promise<R>[] = [];
  return (i) => {
    for (let j = started.length; j < Math.min(items.length, i + window); j++) {
      const call = start(items[j] as T);
      call.catch(() => undefined);
      started.push(call);
    }
    return started[i] as Promise<R>;
  };
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
   * undefined means no bound; [] means dir itself is `last`, so only its descendants come after it. `firstPage` is
   * dir's first page of children when the caller already asked for it.
   */
  private async visit(dir: string, name: string, bound: string[] | undefined, out: string[], limit: number, firstPage?: Promise<string[]>): Promise<void> {
    if (bound === undefined) {
      const first = await (firstPage ?? this.page(dir, ''));
      if (name !== '' && (await this.holdsImages(dir, first))) out.push(name);
      return this.children(dir, name, first, out, limit);
    }
    let after = '';
    if (bound.length > 0) {
      const [first, ...rest] = bound as [string, ...string[]];
      // `last` comes from the client: a component that is not a valid name was never stored, so there is nothing
      // below it to list, and it must not become a storage path.
      if (isValidName(first)) await this.visit(`${dir}/${first}`, name === '' ? first : `${name}/${first}`, rest, out, limit);
      after = first;
    }
    if (out.length < limit) await this.children(dir, name, await this.page(dir, after), out, limit);
  }

  /** Visits the children of dir from `page` on, page after page, until `limit` names are out. */
  private async children(dir: string, name: string, page: string[], out: string[], limit: number): Promise<void> {
    for (;;) {
      const names = page.filter((child) => !child.startsWith('_'));
      const firstPageOf = readAhead(names, (child) => this.page(`${dir}/${child}`, ''), READ_AHEAD);
      for (const [i, child] of names.entries()) {
        if (out.length >= limit) return;
        await this.visit(`${dir}/${child}`, name === '' ? child : `${name}/${child}`, undefined, out, limit, firstPageOf(i));
      }
      if (page.length < PAGE || out.length >= limit) return;
      page = await this.page(dir, page[page.length - 1] as string);
    }
  }

  /** One page of dir's children after `after`; none when dir does not exist. */
  private async page(dir: string, after: string): Promise<string[]> {
    try {
      return await this.driver.listPage(dir, after, PAGE);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  /** Whether dir holds _layers or _manifests, seen in its first page of children when that page reaches them. */
  private async holdsImages(dir: string, first: string[]): Promise<boolean> {
    if (first.includes('_layers') || first.includes('_manifests')) return true;
    // Names starting with a digit sort before "_": a full page of them has not reached the "_" names yet.
    if (first.length < PAGE || (first[first.length - 1] as string) > '_') return false;
    const after = await this.page(dir, '_');
    return after.includes('_layers') || after.includes('_manifests');
  }
}
