// Starts this registry in-process on 127.0.0.1:0 over a fresh store, the way every API test needs it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig, toYaml } from '../../registry/src/config/load.js';
import { startS3rver, type S3Server } from './processes.js';
import type { ClientTimeouts } from '../../registry/src/client-timeouts.js';
import type { Config, LogConfig } from '../../registry/src/config/types.js';
import type { RetrySchedule } from '../../registry/src/storage/driver/reachability.js';
import { createLogger, type Logger } from '../../registry/src/log.js';
import { startRegistry, type RunningRegistry } from '../../registry/src/server.js';

export interface TestRegistry extends RunningRegistry {
  config: Config;
  /** Filesystem root, when the store is on disk. */
  rootDir?: string;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export type TestBackend = 'inmemory' | 'filesystem' | 's3' | 'oss';

export interface TestRegistryOptions {
  /** Storage backend; unset means TEST_STORAGE from the environment, else inmemory. s3 and oss run on a fresh s3rver. */
  storage?: TestBackend;
  /** An existing root directory (kept on stop). */
  rootDir?: string;
  /** Extra config, deep-merged over the defaults (distribution's YAML shape). */
  config?: Record<string, unknown>;
  /**
   * For storage s3 or oss: an s3rver the test controls (stops, restarts, starts later) instead of a fresh one; left
   * running on stop.
   */
  objectStore?: ObjectStore;
  /** Limits on stalled clients, short for the tests of them. */
  clientTimeouts?: ClientTimeouts;
  /** Retries of storage unreachable at start, short for the tests of them. */
  storageRetry?: RetrySchedule;
}

/** Where an object-store backend is and how to sign in to it. */
export type ObjectStore = Pick<S3Server, 'endpoint' | 'bucket' | 'accessKey' | 'secretKey'>;

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object' && current !== null
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** The storage section for an object-store backend on a fresh s3rver; blobs are served by the registry itself. */
function objectStorage(backend: 's3' | 'oss', server: ObjectStore): Record<string, unknown> {
  const common = { bucket: server.bucket, rootdirectory: '/registry', secure: false };
  const driver =
    backend === 's3'
      ? { s3: { ...common, accesskey: server.accessKey, secretkey: server.secretKey, region: 'us-east-1', regionendpoint: server.endpoint, forcepathstyle: true } }
      : { oss: { ...common, accesskeyid: server.accessKey, accesskeysecret: server.secretKey, region: 'oss-cn-test', endpoint: server.endpoint } };
  return { ...driver, redirect: { disable: true } };
}

/** A JSON logger whose lines are kept, parsed, in `logs`. */
export function captureLogs(log: Pick<LogConfig, 'level' | 'fields'>): { logger: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ ...log, formatter: 'json' }, sink), logs };
}

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const backend = options.storage ?? (options.rootDir ? 'filesystem' : ((process.env.TEST_STORAGE as TestBackend | undefined) ?? 'inmemory'));
  const ownDir = backend === 'filesystem' && !options.rootDir ? await mkdtemp(join(tmpdir(), 'registry-test-')) : undefined;
  const rootDir = options.rootDir ?? ownDir;
  const objectBackend = backend === 's3' || backend === 'oss' ? backend : undefined;
  const ownServer = objectBackend && !options.objectStore ? await startS3rver() : undefined;
  const server = options.objectStore ?? ownServer;
  const storage = objectBackend && server ? objectStorage(objectBackend, server) : rootDir ? { filesystem: { rootdirectory: rootDir } } : { inmemory: { acceptdataloss: true } };
  const base = {
    version: '0.1',
    log: { level: 'info', formatter: 'json', accesslog: { disabled: false } },
    storage: { ...storage, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: '127.0.0.1:0' },
  };
  const { config } = parseConfig(toYaml(merge(base, options.config ?? {})), {}, 'test');
  const { logger, logs } = captureLogs(config.log);
  const startOptions = {
    ...(options.clientTimeouts && { clientTimeouts: options.clientTimeouts }),
    ...(options.storageRetry && { storageRetry: options.storageRetry }),
  };
  const registry = await startRegistry(config, logger, startOptions).catch(async (err: unknown) => {
    await ownServer?.stop();
    throw err;
  });
  return {
    ...registry,
    config,
    logs,
    ...(rootDir && { rootDir }),
    async stop() {
      await registry.close();
      await ownServer?.stop();
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
