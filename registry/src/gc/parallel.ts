// Bounded concurrency for storage round trips: an object store answers in tens of milliseconds, so reading or
// deleting one path at a time would make a collection over a large bucket take days.

/** Storage requests in flight at once. */
export const STORAGE_CONCURRENCY = 16;

/** Runs work over items, at most `limit` at a time; the first failure stops new work and is rethrown. */
export async function forEachLimit<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failed = false;
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done && !failed; next = iterator.next()) {
      try {
        await work(next.value);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: limit }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
