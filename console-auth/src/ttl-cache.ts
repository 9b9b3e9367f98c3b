// Answers of a remote service kept for a short time: a docker push asks for a token per repository and retries, and
// each one must not cost a round trip per group. The pending lookup is what is cached, so requests arriving together
// share one; a failed lookup is forgotten at once, so an outage is never remembered as an answer.
import { BoundedMap } from '../../registry/src/storage/bounded-map.js';

export class TtlCache<V> {
  private readonly entries: BoundedMap<string, { expires: number; value: Promise<V> }>;

  constructor(
    private readonly ttlMs: number,
    max: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new BoundedMap(max);
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expires > this.now()) return hit.value;
    const value = load();
    this.entries.set(key, { expires: this.now() + this.ttlMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}
