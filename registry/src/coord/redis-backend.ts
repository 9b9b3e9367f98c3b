// The Redis backend: a lease is one key set with NX and a expiry, renewed and released only by its holder (checked
// in a script, so a lapsed holder cannot delete its successor's key); the bus is Redis pub/sub. When Redis is away,
// leases cannot be taken (callers skip or work alone) and messages are lost: every subscriber is reset when the
// subscription comes back.
import type { Redis } from 'ioredis';
import type { RedisConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { checkName, newCoordinatorId, type Coordinator, type Lease, type LeaseHolder, type Subscriber } from './coordinator.js';
import { acquireLease, type LeaseStore } from './lease.js';
import { LocalBus } from './local-bus.js';
import { connectRedis, firstConnection } from './redis-client.js';

const PREFIX = 'registry:coord:';
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

class RedisLeases implements LeaseStore {
  constructor(private readonly client: Redis) {}

  async claim(name: string, holder: string, ttlMs: number): Promise<LeaseHolder | undefined> {
    const key = `${PREFIX}lease:${name}`;
    if ((await this.client.set(key, holder, 'PX', ttlMs, 'NX')) === 'OK') return undefined;
    const [current, ttl] = await Promise.all([this.client.get(key), this.client.pttl(key)]);
    // Lapsed between the two commands: report it free-but-busy; the caller tries again later.
    return { name, holder: current ?? 'nobody (just lapsed)', expiresAt: Date.now() + Math.max(ttl, 0) };
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.client.eval(RENEW, 1, `${PREFIX}lease:${name}`, holder, String(ttlMs))) === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.client.eval(RELEASE, 1, `${PREFIX}lease:${name}`, holder);
  }
}

export class RedisCoordinator implements Coordinator {
  readonly backend = 'redis' as const;
  readonly id = newCoordinatorId();
  private readonly commands: Redis;
  private subscriber: Redis | undefined;
  private readonly leases: RedisLeases;
  private readonly bus = new LocalBus();
  private readonly channels = new Set<string>();
  private publishFailing = false;

  constructor(
    private readonly config: RedisConfig,
    private readonly logger: Logger,
  ) {
    this.commands = connectRedis(config, logger, 'coordination');
    this.leases = new RedisLeases(this.commands);
  }

  /** Waits (at most the dial timeout) for the connections of a process that is starting. */
  async connected(): Promise<void> {
    await Promise.all([firstConnection(this.commands, this.config), firstConnection(this.subscription(), this.config)]);
  }

  tryLease(name: string, ttlMs: number): Promise<Lease | LeaseHolder> {
    checkName('lease', name);
    return acquireLease(this.leases, name, this.id, ttlMs, this.logger);
  }

  async publish(topic: string, keys: string[]): Promise<void> {
    checkName('topic', topic);
    try {
      // Redis delivers to this process's own subscription too.
      await this.commands.publish(`${PREFIX}${topic}`, JSON.stringify(keys));
      this.publishFailing = false;
    } catch (err) {
      // Subscribers here still hear it; those elsewhere reset when their subscription comes back.
      this.bus.deliver(topic, keys);
      if (!this.publishFailing) this.logger.warn({ err: { message: (err as Error).message }, topic }, 'publishing through redis failed');
      this.publishFailing = true;
    }
  }

  subscribe(topic: string, subscriber: Subscriber): () => void {
    checkName('topic', topic);
    const channel = `${PREFIX}${topic}`;
    const sub = this.subscription();
    if (!this.channels.has(channel)) {
      this.channels.add(channel);
      // Fails while Redis is away; 'ready' subscribes to every channel again.
      sub.subscribe(channel).catch(() => undefined);
    }
    return this.bus.subscribe(topic, subscriber);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.commands.disconnect();
  }

  private subscription(): Redis {
    if (this.subscriber) return this.subscriber;
    // A connection in subscriber mode can run nothing else; ioredis resubscribes its channels on reconnect.
    const sub = connectRedis(this.config, this.logger, 'coordination-subscriber');
    let connectedBefore = false;
    sub.on('ready', () => {
      if (this.channels.size > 0) sub.subscribe(...this.channels).catch(() => undefined);
      if (connectedBefore) this.bus.reset();
      connectedBefore = true;
    });
    sub.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(PREFIX)) return;
      try {
        const keys = JSON.parse(message) as unknown;
        if (Array.isArray(keys)) this.bus.deliver(channel.slice(PREFIX.length), keys.map(String));
      } catch {
        this.bus.reset();
      }
    });
    this.subscriber = sub;
    return sub;
  }
}
