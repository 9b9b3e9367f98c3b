import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';

/** Environment additions for a child: an `undefined` value removes the variable (Node's spawn skips undefined). */
export type EnvPatch = Record<string, string | undefined>;

// Each binary's Debian package and where it installs it, so a missing tool tells the reader what to install.
const tools = {
  etcd: { pkg: 'etcd-server', dir: '/usr/bin' },
  etcdctl: { pkg: 'etcd-client', dir: '/usr/bin' },
  'docker-registry': { pkg: 'docker-registry', dir: '/usr/bin' },
  skopeo: { pkg: 'skopeo', dir: '/usr/bin' },
  umoci: { pkg: 'umoci', dir: '/usr/bin' },
  podman: { pkg: 'podman', dir: '/usr/bin' },
  curl: { pkg: 'curl', dir: '/usr/bin' },
  'redis-server': { pkg: 'redis-server', dir: '/usr/bin' },
  haproxy: { pkg: 'haproxy', dir: '/usr/sbin' },
  openssl: { pkg: 'openssl', dir: '/usr/bin' },
  containerd: { pkg: 'containerd', dir: '/usr/bin' },
  ctr: { pkg: 'containerd', dir: '/usr/bin' },
} as const;

export type Tool = keyof typeof tools;

/** Absolute path of a packaged binary; throws naming the apt package when it is not installed. */
export function toolPath(tool: Tool): string {
  const { pkg, dir } = tools[tool];
  const path = `${dir}/${tool}`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: apt-get install -y ${pkg}`);
  }
  return path;
}

/** `process.env` with a patch applied. */
export function childEnv(patch: EnvPatch = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...patch };
}

const execFileAsync = promisify(execFile);

/** Runs a command to completion and returns its stdout; on failure the error carries the command line and stderr. */
export async function runTool(command: string, args: string[], env: EnvPatch = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      env: childEnv(env),
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
    const output = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim();
    throw new Error(`${command} ${args.join(' ')} failed (${e.code ?? 'error'}):\n${output || e.message}`, { cause: err });
  }
}
