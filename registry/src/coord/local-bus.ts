// Delivery to the subscribers of this process: every backend delivers through one of these.
import type { Subscriber } from './coordinator.js';

export class LocalBus {
  private readonly topics = new Map<string, Set<Subscriber>>();

  subscribe(topic: string, subscriber: Subscriber): () => void {
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.topics.delete(topic);
    };
  }

  deliver(topic: string, keys: string[]): void {
    for (const subscriber of this.topics.get(topic) ?? []) subscriber.keys(keys);
  }

  /** Every subscriber of every topic: messages may have been lost. */
  reset(): void {
    for (const set of this.topics.values()) for (const subscriber of set) subscriber.reset();
  }
}
