// Starts this registry in-process on 127.0.0.1:0 over a fresh store, the way every API test needs it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../registry/src/config/load.js';
import type { Config } from '../../registry/src/config/types.js';
import { createLogger } from '../../registry/src/log.js';
import { startRegistry, type RunningRegistry } from '../../registry/src/server.js';
import { toYaml } from '../../registry/src/config/load.js';

export interface TestRegistry extends RunningRegistry {
  config: Config;
  /** Filesystem root, when the store is on disk. */
  rootDir?: string;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface TestRegistryOptions {
  storage?: 'inmemory' | 'filesystem';
  /** An existing root directory (kept on stop). */
  rootDir?: string;
  /** Extra config, deep-merged over the defaults (distribution's YAML shape). */
  config?: Record<string, unknown>;
}

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

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const ownDir = options.storage === 'filesystem' && !options.rootDir ? await mkdtemp(join(tmpdir(), 'registry-test-')) : undefined;
  const rootDir = options.rootDir ?? ownDir;
  const storage = rootDir ? { filesystem: { rootdirectory: rootDir } } : { inmemory: {} };
  const base = {
    version: '0.1',
    log: { level: 'info', formatter: 'json', accesslog: { disabled: false } },
    storage: { ...storage, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: '127.0.0.1:0' },
  };
  const { config } = parseConfig(toYaml(merge(base, options.config ?? {})), {}, 'test');
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const registry = await startRegistry(config, createLogger(config.log, sink));
  return {
    ...registry,
    config,
    logs,
    ...(rootDir && { rootDir }),
    async stop() {
      await registry.close();
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
