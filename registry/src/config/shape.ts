// A typed Config written back in distribution's config.yml shape: for `registry config` style printing (secrets
// masked) and for rendering a file that both this registry and distribution read to the same settings.
import { stringify } from 'yaml';
import { formatDuration } from './duration.js';
import type { AuthConfig, Config, ProxyConfig, StorageDriverConfig, UpstreamConfig } from './types.js';

type Shape = { [key: string]: unknown };

const MASK = '*****';

function driverShape(driver: StorageDriverConfig): Shape {
  switch (driver.type) {
    case 'filesystem':
      return { filesystem: { ...driver.filesystem } };
    case 'inmemory':
      // A validated config names inmemory only with its acknowledgement.
      return { inmemory: { acceptdataloss: true } };
    case 's3':
      return { s3: { ...driver.s3 } };
    case 'oss':
      return { oss: { ...driver.oss } };
  }
}

function authShape(auth: AuthConfig): Shape {
  const { type, ...params } = auth;
  return { [type]: params };
}

function upstreamShape(upstream: UpstreamConfig): Shape {
  const { prefix: _derived, ttl, ...keys } = upstream;
  return { ...keys, ttl: formatDuration(ttl) };
}

function proxyShape(proxy: ProxyConfig): Shape {
  return {
    ...(proxy.remote && upstreamShape(proxy.remote)),
    ...(proxy.upstreams.length > 0 && { upstreams: proxy.upstreams.map(upstreamShape) }),
  };
}

export function toDistributionShape(config: Config): Shape {
  const { storage, http, health } = config;
  const { uploadpurging, gc, prune } = storage.maintenance;
  const shape: Shape = {
    version: config.version,
    log: config.log,
    storage: {
      ...driverShape(storage.driver),
      delete: storage.delete,
      maintenance: {
        readonly: storage.maintenance.readonly,
        uploadpurging: { ...uploadpurging, age: formatDuration(uploadpurging.age), interval: formatDuration(uploadpurging.interval) },
        gc: { ...gc, interval: formatDuration(gc.interval), minage: formatDuration(gc.minage) },
        prune: { ...prune, interval: formatDuration(prune.interval) },
      },
      ...(storage.cache.blobdescriptor === undefined ? {} : { cache: storage.cache }),
      redirect: storage.redirect,
    },
    http: { ...http, draintimeout: formatDuration(http.draintimeout) },
    health: { storagedriver: { ...health.storagedriver, interval: formatDuration(health.storagedriver.interval) } },
    validation: config.validation,
  };
  if (config.auth !== undefined) shape.auth = authShape(config.auth);
  if (config.redis !== undefined) {
    const { dialtimeout, readtimeout, writetimeout, ...redis } = config.redis;
    shape.redis = { ...redis, dialtimeout: formatDuration(dialtimeout), readtimeout: formatDuration(readtimeout), writetimeout: formatDuration(writetimeout) };
  }
  if (config.proxy !== undefined) shape.proxy = proxyShape(config.proxy);
  return shape;
}

function maskIn(section: unknown, keys: readonly string[]): void {
  if (typeof section !== 'object' || section === null) return;
  const record = section as Shape;
  for (const key of keys) if (record[key] !== undefined) record[key] = MASK;
}

/** A copy in distribution's YAML shape with every credential replaced by "*****" (absent ones stay absent). */
export function maskSecrets(config: Config): unknown {
  const shape = structuredClone(toDistributionShape(config));
  maskIn(shape.http, ['secret']);
  const storage = shape.storage as Shape;
  maskIn(storage.s3, ['accesskey', 'secretkey']);
  maskIn(storage.oss, ['accesskeyid', 'accesskeysecret']);
  maskIn(shape.redis, ['password']);
  const proxy = shape.proxy as Shape | undefined;
  maskIn(proxy, ['password']);
  for (const upstream of (proxy?.upstreams as unknown[] | undefined) ?? []) maskIn(upstream, ['password']);
  return shape;
}

/** YAML that distribution's YAML 1.1 reader takes back unchanged: strings like "yes" or "0755" are quoted; undefined values are left out. */
export function toYaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0 });
}
