// Connections to the `redis:` section's server, shared by the coordination layer and the blob descriptor cache.
// Commands fail at once while Redis is away (no offline queue), so a caller can fall back to storage instead of
// waiting: a cache that is down must never hold up a pull.
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/types.js';
import type { Logger } from '../log.js';

export function redisOptions(config: RedisConfig): RedisOptions {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(config.addr);
  const host = match?.[1] ?? match?.[2] ?? config.addr;
  return {
    host: host === '' ? '127.0.0.1' : host,
    port: match ? Number(match[3]) : 6379,
    db: config.db,
    ...(config.password !== undefined && { password: config.password }),
    ...(config.tls.enabled && { tls: {} }),
    connectTimeout: config.dialtimeout,
    ...(config.readtimeout > 0 && { commandTimeout: config.readtimeout }),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect for ever, backing off to 2 s: Redis coming back is the normal end of an outage.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
  };
}

/** A client that logs each change of state once (not once per failed command) and never throws from events. */
export function connectRedis(config: RedisConfig, logger: Logger, role: string): Redis {
  const client = new Redis(redisOptions(config));
  const log = logger.child({ component: 'redis', role, addr: config.addr });
  let up: boolean | undefined;
  client.on('ready', () => {
    if (up !== true) log.info(up === false ? 'redis is reachable again' : 'redis connected');
    up = true;
  });
  client.on('error', (err: Error) => {
    if (up !== false) log.warn({ err: { message: err.message } }, 'redis unavailable; serving from storage until it is back');
    up = false;
  });
  client.on('close', () => {
    if (up === true) log.warn('redis connection closed; reconnecting');
    up = false;
  });
  return client;
}

/**
 * Resolves once the client is ready, or after the dial timeout if it is not: a Redis that is down at start must not
 * stop the registry from serving, but one that is up should be in use from the first request.
 */
export async function firstConnection(client: Redis, config: RedisConfig): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, config.dialtimeout || 2000);
    timer.unref();
    client.once('ready', done);
    function done(): void {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    }
  });
}
