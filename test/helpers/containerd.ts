// A real containerd (Debian's 1.6, as root) with its own config, root, state and socket in a temp dir (FIELD-NOTES),
// and `ctr` against it. Stopped by its PID.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, startProcess, type ManagedProcess } from './spawn.js';
import { runTool, toolPath } from './tools.js';

export interface Containerd {
  readonly socket: string;
  readonly process: ManagedProcess;
  /** Runs `ctr --address SOCKET ARGS...` and returns its stdout. */
  ctr(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = await makeTempDir('containerd');
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      // Nothing here runs containers: the CRI plugin would only look for CNI and log about it.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '',
    ].join('\n'),
  );
  const ctr = (args: string[]) => runTool(toolPath('ctr'), ['--address', socket, ...args]);
  const proc = await startProcess({
    name: 'containerd',
    command: toolPath('containerd'),
    args: ['--config', config],
    dir,
    ready: async () => {
      await access(socket);
      await ctr(['version']);
      return true;
    },
  });
  return { socket, process: proc, ctr, stop: () => proc.stop() };
}

/**
 * Writes DIR/<registry>/hosts.toml for each registry: its own server as the fallback, the mirror first for pulls and
 * resolves, over plain http (containerd then sends ?ns=<registry> to the mirror).
 */
export async function writeHostsDir(dir: string, mirror: string, registries: Record<string, string>): Promise<void> {
  for (const [registry, server] of Object.entries(registries)) {
    await mkdir(join(dir, registry), { recursive: true });
    await writeFile(join(dir, registry, 'hosts.toml'), `server = "${server}"\n\n[host."${mirror}"]\n  capabilities = ["pull", "resolve"]\n`);
  }
}
