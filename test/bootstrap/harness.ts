// Runs the real bootstrap CLI (dist/bootstrap/src/cli.js) against a real etcd, with the shipped template
// (etc/config.yml) and everything it writes in a temp dir: REGISTRY_* variables move its data and port there.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort } from '../helpers/ports.js';
import { httpReady, makeTempDir, startNodeProcess, type ManagedProcess } from '../helpers/spawn.js';
import { type EnvPatch } from '../helpers/tools.js';

// dist/test/bootstrap/ -> dist/bootstrap/src/cli.js
export const BOOTSTRAP_CLI = fileURLToPath(new URL('../../bootstrap/src/cli.js', import.meta.url));
export { REGISTRY_CLI } from '../helpers/registry-cli.js';
export const TEMPLATE = resolve(fileURLToPath(new URL('../../../etc/config.yml', import.meta.url)));
export const DOCKERFILE = resolve(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)));

/** A place for one bootstrap "container": its data volume, rendered config, and the port its registry listens on. */
export interface Workspace {
  dir: string;
  dataDir: string;
  stateDir: string;
  lastGood: string;
  configOut: string;
  port: number;
  url: string;
  /** The environment bootstrap runs with; the etcd endpoint and more can be patched per run. */
  env(extra?: EnvPatch): EnvPatch;
  remove(): Promise<void>;
}

export async function makeWorkspace(etcdEndpoint: string): Promise<Workspace> {
  const dir = await makeTempDir('bootstrap');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const port = await freePort();
  const configOut = join(dir, 'run', 'config.yml');
  return {
    dir,
    dataDir,
    stateDir: join(dataDir, '.bootstrap'),
    lastGood: join(dataDir, '.bootstrap', 'last-good.yml'),
    configOut,
    port,
    url: `http://127.0.0.1:${port}`,
    env: (extra = {}) => ({
      ETCD_ENDPOINTS: etcdEndpoint,
      BOOTSTRAP_ETCD_TIMEOUT: '1',
      BOOTSTRAP_CONFIG_OUT: configOut,
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: dataDir,
      REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
      // Whatever the caller's shell has must not leak into what the test proves.
      BOOTSTRAP_TEMPLATE: undefined,
      BOOTSTRAP_STATE_DIR: undefined,
      BOOTSTRAP_REGISTRY_CLI: undefined,
      ETCD_CA: undefined,
      ETCD_CERT: undefined,
      ETCD_KEY: undefined,
      ...extra,
    }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<number>();

/** For after() hooks: a run that was expected to exit but did not (a failing test) is stopped like `docker stop`. */
export function stopRuns(): void {
  for (const pid of running) process.kill(pid, 'SIGTERM');
}

/** Runs bootstrap to completion (e.g. `render`, or a start that must fail), capturing its output. */
export function runBootstrap(args: string[], env: EnvPatch): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BOOTSTRAP_CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const { pid } = child;
    if (pid !== undefined) running.add(pid);
    child.once('exit', () => running.delete(pid ?? -1));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Starts bootstrap as the container would, ready once its registry answers on the workspace's port. */
export function startBootstrap(ws: Workspace, env: EnvPatch = {}): Promise<ManagedProcess> {
  return startNodeProcess(BOOTSTRAP_CLI, [], ws.env(env), httpReady(`${ws.url}/v2/`), { name: 'bootstrap', timeoutMs: 30000 });
}

/** The registry child's PID, from bootstrap's "registry started" log line. */
export async function registryPid(proc: ManagedProcess): Promise<number> {
  const match = /msg="registry started".*registryPid=(\d+)/.exec(await proc.readLog());
  if (match === null) throw new Error(`no "registry started" line in the bootstrap log:\n${await proc.readLog()}`);
  return Number(match[1]);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the log holds `text` `times` times; fails at once if the process exits first. */
export async function waitForLog(proc: ManagedProcess, text: string, times = 1): Promise<void> {
  while ((await proc.readLog()).split(text).length - 1 < times) {
    if (!isRunning(proc.pid)) throw new Error(`${proc.name} exited before logging "${text}" ${times} times:\n${await proc.readLog()}`);
    await sleep(50);
  }
}

/** Stops bootstrap with SIGTERM as `docker stop` does; returns its exit code and checks it left no registry behind. */
export async function dockerStop(proc: ManagedProcess): Promise<number | null> {
  const child = await registryPid(proc);
  process.kill(proc.pid, 'SIGTERM');
  const { code } = await proc.exited;
  expect(isRunning(child), 'registry child left running').to.equal(false);
  await proc.stop();
  return code;
}

/** True when nothing listens at the URL (the registry is not serving). */
export async function refused(url: string): Promise<boolean> {
  return fetch(url).then(() => false, () => true);
}

