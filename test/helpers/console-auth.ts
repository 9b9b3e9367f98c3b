// A real console-auth for tests: in this process, on 127.0.0.1 port 0, with a fresh 2048-bit key pair, the given
// accounts (plain passwords, hashed with bcrypt here) and rules written to a real console.yml it watches.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { createConsoleApp, TOKEN_PATH, type ConsoleApp } from '../../console-auth/src/app.js';
import { loadConsoleConfig } from '../../console-auth/src/config.js';
import { keygen } from '../../console-auth/src/keys.js';
import { watchConfig, type ConfigWatcher } from '../../console-auth/src/reload.js';
import { listen } from '../../console-auth/src/server.js';
import { createLogger } from '../../registry/src/log.js';

export interface ConsoleAuthAccount {
  password: string;
  groups?: string[];
}

export interface ConsoleAuthOptions {
  /** Account name to plain password (or password and groups). */
  accounts?: Record<string, string | ConsoleAuthAccount>;
  /** console.yml rules, e.g. [{ account: 'alice', repository: '*', actions: ['*'] }]. */
  rules?: Array<Record<string, unknown>>;
  mode?: 'acl' | 'open';
  /** token.issuer, "auth server" unless given. */
  issuer?: string;
  /** token.service (the registry's auth.token.service), "registry.test" unless given. */
  service?: string;
  /** token.ttl, e.g. "5m". */
  ttl?: string;
  ratelimit?: { failures: number; addressfailures?: number; window: string };
  /** bcrypt cost of the accounts' hashes; 4 unless given (fast tests; the server reads the cost from the hash). */
  cost?: number;
  /** Use this key pair instead of a fresh one (e.g. to rotate: start with a new pair, bundle old and new). */
  keyPair?: { keyPath: string; certPath: string };
}

export interface ConsoleAuth {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The token endpoint, for the registry's auth.token.realm. */
  readonly realm: string;
  readonly issuer: string;
  readonly service: string;
  /** server.pem: the registry's auth.token.rootcertbundle. */
  readonly certPath: string;
  readonly keyPath: string;
  /** The console.yml in use; rewrite it (writeConfig) to exercise reloads. */
  readonly configPath: string;
  readonly dir: string;
  readonly console: ConsoleApp;
  readonly watcher: ConfigWatcher;
  /** Every log line so far (audit lines have `audit: "grant" | "refusal"`), parsed. */
  logLines(): Array<Record<string, unknown>>;
  /** The raw log text, to prove what it does not contain. */
  logText(): string;
  /** Writes console.yml again from options merged over the current ones (keyPair switches the signing key). */
  writeConfig(opts: ConsoleAuthOptions): Promise<void>;
  stop(): Promise<void>;
}

async function consoleYaml(opts: ConsoleAuthOptions, keyPath: string, certPath: string): Promise<string> {
  const accounts: Record<string, { password: string; groups?: string[] }> = {};
  for (const [name, account] of Object.entries(opts.accounts ?? {})) {
    const { password, groups } = typeof account === 'string' ? { password: account, groups: undefined } : account;
    accounts[name] = { password: await bcrypt.hash(password, opts.cost ?? 4), ...(groups ? { groups } : {}) };
  }
  return stringify({
    http: { addr: '127.0.0.1:0', realm: 'console-auth test' },
    token: { issuer: opts.issuer ?? 'auth server', service: opts.service ?? 'registry.test', key: keyPath, certificate: certPath, ttl: opts.ttl ?? '5m' },
    mode: opts.mode ?? 'acl',
    accounts,
    rules: opts.rules ?? [],
    ...(opts.ratelimit ? { ratelimit: opts.ratelimit } : {}),
  });
}

export async function startConsoleAuth(opts: ConsoleAuthOptions = {}): Promise<ConsoleAuth> {
  const dir = await mkdtemp(join(tmpdir(), 'console-auth-'));
  const generated = opts.keyPair ?? (await keygen(join(dir, 'keys'), { bits: 2048 }));
  const { keyPath, certPath } = generated;
  const configPath = join(dir, 'console.yml');
  await writeFile(configPath, await consoleYaml(opts, keyPath, certPath));
  const config = await loadConsoleConfig(configPath);
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: 'info', formatter: 'json', fields: {} }, sink);
  const consoleApp = await createConsoleApp(config, { logger });
  const listening = await listen(consoleApp, config.http.addr);
  const watcher = watchConfig(configPath, consoleApp, logger);
  let current = opts;
  return {
    url: listening.url,
    realm: `${listening.url}${TOKEN_PATH}`,
    issuer: config.token.issuer,
    service: config.token.service,
    certPath,
    keyPath,
    configPath,
    dir,
    console: consoleApp,
    watcher,
    logLines: () =>
      log
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    logText: () => log,
    async writeConfig(next) {
      current = { ...current, ...next };
      const keys = current.keyPair ?? generated;
      await writeFile(configPath, await consoleYaml(current, keys.keyPath, keys.certPath));
    },
    async stop() {
      watcher.stop();
      await listening.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
