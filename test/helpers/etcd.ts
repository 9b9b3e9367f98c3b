import { freePort, withPortRetry } from './ports.js';
import { httpReady, startProcess, type ManagedProcess } from './spawn.js';
import { runTool, toolPath } from './tools.js';

/** A single-member etcd 3.4 serving both the v2 and the v3 keyspace on 127.0.0.1. */
export interface Etcd {
  /** Client URL, http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly pid: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
  /** `ETCDCTL_API=2 etcdctl set`, as an SA does. */
  setV2(key: string, value: string): Promise<void>;
  /** `ETCDCTL_API=2 etcdctl rm`. */
  rmV2(key: string): Promise<void>;
  /** `ETCDCTL_API=2 etcdctl get`; undefined when the key does not exist. */
  getV2(key: string): Promise<string | undefined>;
  /** `ETCDCTL_API=3 etcdctl put`. */
  putV3(key: string, value: string): Promise<void>;
  /** `ETCDCTL_API=3 etcdctl del`. */
  delV3(key: string): Promise<void>;
  /** `ETCDCTL_API=3 etcdctl get --print-value-only`; undefined when the key does not exist. */
  getV3(key: string): Promise<string | undefined>;
}

async function launch(extraArgs: string[]): Promise<{ proc: ManagedProcess; endpoint: string }> {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const proc = await startProcess({
    name: 'etcd',
    command: toolPath('etcd'),
    // The relative data dir lands in the helper's temp dir, the process cwd.
    args: [
      '--name', 'test',
      '--data-dir', 'data',
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `test=${peer}`,
      '--enable-v2',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'warn',
      ...extraArgs,
    ],
    // etcd reads ETCD_* variables as flags; one in the caller's environment would clash with those above.
    env: Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('ETCD')).map((k) => [k, undefined])),
    ready: httpReady(`${endpoint}/health`, async (res) => res.ok && ((await res.json()) as { health?: string }).health === 'true'),
  });
  return { proc, endpoint };
}

// etcdctl prints a value followed by one newline.
function value(stdout: string): string {
  return stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
}

/** `extraArgs` are more etcd flags, e.g. `--max-request-bytes` for a test that stores values over etcd's default limit. */
export async function startEtcd(extraArgs: string[] = []): Promise<Etcd> {
  const { proc, endpoint } = await withPortRetry(() => launch(extraArgs));
  const etcdctl = toolPath('etcdctl');
  // `--no-sync` keeps v2 etcdctl on our endpoint instead of the member list; `--` lets keys and values start with '-'.
  const v2 = (...args: string[]) => runTool(etcdctl, ['--endpoints', endpoint, '--no-sync', ...args], { ETCDCTL_API: '2' });
  const v3 = (...args: string[]) => runTool(etcdctl, ['--endpoints', endpoint, ...args], { ETCDCTL_API: '3' });
  return {
    endpoint,
    pid: proc.pid,
    process: proc,
    stop: () => proc.stop(),
    async setV2(key, val) {
      await v2('set', '--', key, val);
    },
    async rmV2(key) {
      await v2('rm', '--', key);
    },
    async getV2(key) {
      try {
        return value(await v2('get', '--', key));
      } catch (err) {
        if (/Key not found/.test(String(err))) return undefined;
        throw err;
      }
    },
    async putV3(key, val) {
      await v3('put', '--', key, val);
    },
    async delV3(key) {
      await v3('del', '--', key);
    },
    async getV3(key) {
      const out = await v3('get', '--print-value-only', '--', key);
      return out === '' ? undefined : value(out);
    },
  };
}

/** The etcd user withEtcdAuthentication creates: what ETCD_USERNAME and ETCD_PASSWORD name. */
export const ETCD_ROOT = { username: 'root', password: 'root-secret' };

/** Runs `fn` while the etcd at `endpoint` has authentication on (`etcdctl user add root`, `auth enable`), then undoes it. */
export async function withEtcdAuthentication<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  const etcdctl = (...args: string[]) => runTool(toolPath('etcdctl'), ['--endpoints', endpoint, ...args], { ETCDCTL_API: '3' });
  await etcdctl('user', 'add', `${ETCD_ROOT.username}:${ETCD_ROOT.password}`);
  await etcdctl('auth', 'enable');
  try {
    return await fn();
  } finally {
    await etcdctl('--user', `${ETCD_ROOT.username}:${ETCD_ROOT.password}`, 'auth', 'disable');
    await etcdctl('user', 'delete', ETCD_ROOT.username);
  }
}
