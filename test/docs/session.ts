// The doc tests' harness: runs the runnable blocks of one document in order, in one bash session, against real
// processes, as a reader pastes them into a terminal. The marking convention is written out in runnable.test.ts.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning } from '../bootstrap/harness.js';
import { startEtcd, type Etcd } from '../helpers/etcd.js';
import { buildOciImage, skopeo, type BuiltImage } from '../helpers/images.js';
import { freePort, withPortRetry } from '../helpers/ports.js';
import { REGISTRY_CLI } from '../helpers/registry-cli.js';
import { httpReady, makeTempDir, startProcess, stopAll, type ManagedProcess } from '../helpers/spawn.js';
import { childEnv, type EnvPatch } from '../helpers/tools.js';
import { fencedBlocks, REPO_ROOT, type Doc } from './markdown.js';

export interface RunnableBlock {
  line: number;
  code: string;
  /** The status the block must stop with (`exit=N`); 0 for an ordinary block. */
  exit: number;
}

export interface RunnableDoc {
  path: string;
  blocks: RunnableBlock[];
}

/** The images the harness registry holds: team/app:v1 and team/app:v2, one small layer each, nothing shared. */
const SEEDED = { repository: 'team/app', tags: ['v1', 'v2'] } as const;

/** A whole doc may take this long; a hung command (a server in the foreground, a prompt) fails instead of hanging. */
const SESSION_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL_LINES = 80;

/** The blocks marked ```sh runnable [exit=N]; a marked block in another language or with an unknown attribute throws. */
export function runnableBlocks(doc: Doc): RunnableDoc {
  const blocks: RunnableBlock[] = [];
  for (const block of fencedBlocks(doc.text)) {
    if (!block.attributes.includes('runnable')) continue;
    const where = `${doc.path}:${block.line - 1}`;
    if (block.lang !== 'sh') throw new Error(`${where}: a runnable block must be \`\`\`sh, not ${JSON.stringify(block.lang)}`);
    let exit = 0;
    for (const attribute of block.attributes) {
      const status = /^exit=(\d{1,3})$/.exec(attribute);
      if (status !== null) exit = Number(status[1]);
      else if (attribute !== 'runnable') throw new Error(`${where}: unknown attribute ${JSON.stringify(attribute)} (runnable blocks take exit=N)`);
    }
    blocks.push({ line: block.line, code: block.code, exit });
  }
  return { path: doc.path, blocks };
}

// What the blocks name decides which servers the harness starts for them.
const NEEDS_ETCD = /\betcdctl\b|\bbootstrap\b|\$\{?ETCD/;
const NEEDS_REGISTRY = /\$\{?(REGISTRY|CONFIG)\b/;

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** `registry`, `console-auth` and `bootstrap` as `npm link` installs them: package.json's bins, run by this Node. */
async function writeProgramShims(binDir: string): Promise<void> {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  await mkdir(binDir, { recursive: true });
  for (const [name, script] of Object.entries(pkg.bin)) {
    const shim = join(binDir, name);
    await writeFile(shim, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(join(REPO_ROOT, script))} "$@"\n`);
    await chmod(shim, 0o755);
  }
}

interface HarnessRegistry {
  address: string;
  configPath: string;
  proc: ManagedProcess;
}

async function startHarnessRegistry(images: BuiltImage[]): Promise<HarnessRegistry> {
  const start = async (): Promise<HarnessRegistry> => {
    // The process owns the dir (config and storage): a start that fails removes it, a retry makes another.
    const dir = await makeTempDir('docs-registry');
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    await writeFile(
      configPath,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    const proc = await startProcess({
      name: 'docs-registry',
      command: process.execPath,
      args: [REGISTRY_CLI, 'serve', configPath],
      dir,
      ready: httpReady(`http://127.0.0.1:${port}/v2/`, (res) => res.status === 200),
    });
    return { address: `127.0.0.1:${port}`, configPath, proc };
  };
  const registry = await withPortRetry(start);
  try {
    for (const [i, image] of images.entries()) {
      await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://${registry.address}/${SEEDED.repository}:${SEEDED.tags[i]}`]);
    }
  } catch (err) {
    await registry.proc.stop();
    throw err;
  }
  return registry;
}

/** Why a doc failed: where, with what status, and the end of what the session printed. */
export class DocFailure extends Error {}

interface BlockFile {
  path: string;
  block: RunnableBlock;
}

/** The bash program that sources each block in turn and leaves a trace of the command that failed. */
function driverScript(doc: RunnableDoc, files: BlockFile[], traceFile: string): string {
  const lines = [
    'set -Eeuo pipefail',
    `__docs_trace=${shellQuote(traceFile)}`,
    // Only a command of a block leaves a trace: the driver's own lines have no BASH_SOURCE.
    `trap '__docs_failed=$?; if [ -n "\${BASH_SOURCE[0]:-}" ]; then printf "%s %s %s\\n" "$__docs_failed" "\${BASH_SOURCE[0]}" "$LINENO" > "$__docs_trace"; fi' ERR`,
  ];
  for (const { path, block } of files) {
    const where = `${doc.path}:${block.line - 1}`;
    lines.push(`printf '\\n### %s\\n' ${shellQuote(block.exit === 0 ? where : `${where} (expects exit ${block.exit})`)}`);
    if (block.exit === 0) {
      lines.push(`source ${shellQuote(path)}`);
      continue;
    }
    // In a subshell, so the expected failure stops only this block.
    lines.push(
      `set +e; ( set -e; source ${shellQuote(path)} ); __docs_status=$?; set -e`,
      `if [ "$__docs_status" -ne ${block.exit} ]; then`,
      `  echo "docs: the block at ${where} ended with status $__docs_status, expected ${block.exit}" >&2; exit 1`,
      'fi',
      'rm -f "$__docs_trace"',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The session's process group: bash and whatever its blocks left running (servers started with `&`). */
async function stopGroup(pgid: number): Promise<void> {
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    if (!isRunning(-pgid)) return;
    process.kill(-pgid, sig);
    for (let waited = 0; waited < 5000 && isRunning(-pgid); waited += 50) await sleep(50);
  }
}

interface SessionExit {
  code: number | null;
  timedOut: boolean;
}

async function runBash(script: string, cwd: string, env: EnvPatch, logPath: string): Promise<SessionExit> {
  const logFd = openSync(logPath, 'a');
  // detached: bash leads its own process group, so the servers a doc starts can be stopped with it.
  const bash = spawn('/bin/bash', ['-c', script], { cwd, env: childEnv(env), stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve, reject) => {
    bash.once('exit', (code) => resolve(code));
    bash.once('error', reject);
  });
  const pid = bash.pid;
  if (pid === undefined) return { code: await exited, timedOut: false };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopGroup(pid);
  }, SESSION_TIMEOUT_MS);
  try {
    return { code: await exited, timedOut };
  } finally {
    clearTimeout(timer);
    await stopGroup(pid);
  }
}

/** Maps the failing command's trace (`status blockfile line`) back to a line of the doc. */
function failedAt(trace: string, doc: RunnableDoc, files: BlockFile[]): string | undefined {
  const match = /^(\d+) (\S+) (\d+)$/.exec(trace.trim());
  if (match === null) return undefined;
  const file = files.find((f) => f.path === match[2]);
  if (file === undefined) return undefined;
  const line = file.block.line + Number(match[3]) - 1;
  const text = file.block.code.split('\n')[Number(match[3]) - 1]?.trim() ?? '';
  return `${doc.path}:${line} (status ${match[1]}): ${text}`;
}

function tail(text: string): string {
  return text.split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}

/** Starts what the docs need (etcd, a registry holding SEEDED) per doc, and runs docs; create() once, close() after. */
export class DocHarness {
  private constructor(
    private readonly seedDir: string,
    private readonly images: BuiltImage[],
  ) {}

  static async create(): Promise<DocHarness> {
    const seedDir = await makeTempDir('docs-seed');
    const layout = join(seedDir, 'oci');
    const images: BuiltImage[] = [];
    // One at a time: umoci rewrites index.json on every command.
    for (const tag of SEEDED.tags) images.push(await buildOciImage(layout, { tag, layers: 1, seed: `docs-${tag}` }));
    return new DocHarness(seedDir, images);
  }

  async close(): Promise<void> {
    await rm(this.seedDir, { recursive: true, force: true });
  }

  /** Runs every block of the doc; throws a DocFailure naming the doc line that failed, with the session's output. */
  async run(doc: RunnableDoc): Promise<void> {
    // A port the harness handed out may be taken before the doc's server binds it: then the whole doc runs again.
    await withPortRetry(() => this.runOnce(doc));
  }

  private async runOnce(doc: RunnableDoc): Promise<void> {
    const dir = await makeTempDir('docs-session');
    const text = doc.blocks.map((b) => b.code).join('\n');
    let etcd: Etcd | undefined;
    let registry: HarnessRegistry | undefined;
    try {
      const work = join(dir, 'work');
      const home = join(dir, 'home');
      await mkdir(work);
      await mkdir(home);
      await writeProgramShims(join(dir, 'bin'));
      const files: BlockFile[] = [];
      await mkdir(join(dir, 'blocks'));
      for (const [i, block] of doc.blocks.entries()) {
        const path = join(dir, 'blocks', `${i}.sh`);
        await writeFile(path, `${block.code}\n`);
        files.push({ path, block });
      }
      if (NEEDS_ETCD.test(text)) etcd = await startEtcd();
      if (NEEDS_REGISTRY.test(text)) registry = await startHarnessRegistry(this.images);
      const env: EnvPatch = {
        // Nothing of the caller's etcd, registry or bootstrap settings reaches the doc; ETCDCTL_API unset means v3,
        // as Debian's etcdctl 3.4 defaults, so a command that does not name its API fails here as it does there.
        ...Object.fromEntries(Object.keys(process.env).filter((k) => /^(ETCD|REGISTRY_|BOOTSTRAP_)/.test(k)).map((k) => [k, undefined])),
        PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: home,
        ETCDCTL_ENDPOINTS: etcd?.endpoint,
        ETCD_ENDPOINTS: etcd?.endpoint,
        BOOTSTRAP_CONFIG_OUT: join(dir, 'bootstrap', 'config.yml'),
        BOOTSTRAP_STATE_DIR: join(dir, 'bootstrap', 'state'),
        REGISTRY: registry?.address,
        CONFIG: registry?.configPath,
        PORT_REGISTRY: String(await freePort()),
        PORT_CONSOLE: String(await freePort()),
      };
      const traceFile = join(dir, 'failed-command');
      const logPath = join(dir, 'session.log');
      const exit = await runBash(driverScript(doc, files, traceFile), work, env, logPath);
      if (exit.code === 0 && !exit.timedOut) return;
      const output = await readFile(logPath, 'utf8');
      const trace = await readFile(traceFile, 'utf8').catch(() => '');
      const what = exit.timedOut ? `did not finish within ${SESSION_TIMEOUT_MS / 1000} s` : `failed (exit ${exit.code})`;
      const at = failedAt(trace, doc, files);
      throw new DocFailure(`${doc.path} ${what}${at === undefined ? '' : ` at ${at}`}\n--- session output (each block starts with ### doc:line) ---\n${tail(output)}`);
    } finally {
      await registry?.proc.stop();
      await etcd?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** For a mocha suite: one harness made before its tests and closed after them (with anything a test left running). */
export function docHarnessPerSuite(): () => DocHarness {
  let harness: DocHarness | undefined;
  before(async function () {
    harness = await DocHarness.create();
  });
  after(async function () {
    await harness?.close();
    await stopAll();
  });
  return () => {
    if (harness === undefined) throw new Error('the doc harness is made in a before() hook; use it inside a test');
    return harness;
  };
}
