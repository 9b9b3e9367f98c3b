// The top-level `redis:` section, with distribution 2.8's keys. When present, the coordination layer (leases, the
// message bus) uses it, and `storage.cache.blobdescriptor: redis` keeps blob descriptors there.
import type { RedisConfig } from './types.js';
import type { Section } from './section.js';

const ADDR = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/;

export function readRedis(top: Section): RedisConfig | undefined {
  if (top.get('redis') === undefined) return undefined;
  return top.section('redis', (s) => {
    const addr = s.string('addr');
    if (addr === undefined || addr === '') s.error('addr', 'required: the Redis server as host:port (e.g. 127.0.0.1:6379)', s.origin);
    else if (!ADDR.test(addr) || Number(ADDR.exec(addr)?.[2]) > 65535) s.error('addr', `${JSON.stringify(addr)} is not host:port (e.g. 127.0.0.1:6379)`, s.originOf('addr'));
    const password = s.string('password');
    // One connection per process carries every command (ioredis pipelines them), so the pool sizes have no use.
    s.section('pool', (p) => {
      for (const key of ['maxidle', 'maxactive', 'idletimeout']) p.unsupported(key, 'one pipelined connection per process is used');
    });
    const config: RedisConfig = {
      addr: addr ?? '',
      db: s.integer('db', 0, { min: 0 }),
      dialtimeout: s.duration('dialtimeout', 2000),
      readtimeout: s.duration('readtimeout', 1000),
      writetimeout: s.duration('writetimeout', 1000),
      tls: s.section('tls', (t) => ({ enabled: t.boolean('enabled', false) })),
    };
    if (password !== undefined && password !== '') config.password = password;
    return config;
  });
}
