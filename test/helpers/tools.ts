import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';

/** Environment additions for a child: an `undefined` value removes the variable (Node's spawn skips undefined). */
export type EnvPatch = Record<string, string | undefined>;

// The Debian package that ships each binary, so a missing tool tells the reader what to install.
const packages = {
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  umoci: 'umoci',
  podman: 'podman',
  curl: 'curl',
  'redis-server': 'redis-server',
  openssl: 'openssl',
  containerd: 'containerd',
  ctr: 'containerd',
} as const;

export type Tool = keyof typeof packages;

/** Absolute path of a packaged binary; throws naming the apt package when it is not installed. */
export function toolPath(tool: Tool): string {
  const path = `/usr/bin/${tool}`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: apt-get install -y ${packages[tool]}`);
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
