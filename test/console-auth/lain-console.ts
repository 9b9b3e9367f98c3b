// A real console-auth configured the LAIN way: the shared test console (helpers/console-auth.ts) switched to a
// console.yml with the given identity, etcd, http and anonymous_pull keys, through the console's own reload.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { loadConsoleConfig } from '../../console-auth/src/config.js';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';

export interface LainConsoleOptions {
  http?: { trustedproxies?: string[]; anymethod?: boolean };
  identity?: Record<string, unknown>;
  etcd?: { endpoints: string[]; poll?: string; timeout?: string };
  anonymous_pull?: boolean;
  accounts?: Record<string, { password: string; groups?: string[] }>;
  rules?: Array<Record<string, unknown>>;
}

export interface LainConsole extends ConsoleAuth {
  /** The console.yml text in force. */
  readonly yaml: string;
}

export async function startLainConsole(opts: LainConsoleOptions): Promise<LainConsole> {
  const ca = await startConsoleAuth();
  // Reloaded explicitly below; the file watcher would reload a second time and reset the SSO cache mid-test.
  ca.watcher.stop();
  const yaml = stringify({
    http: { addr: '127.0.0.1:0', realm: 'console-auth test', ...opts.http },
    token: { issuer: ca.issuer, service: ca.service, key: ca.keyPath, certificate: ca.certPath },
    ...(opts.identity && { identity: opts.identity }),
    ...(opts.etcd && { etcd: opts.etcd }),
    ...(opts.anonymous_pull !== undefined && { anonymous_pull: opts.anonymous_pull }),
    ...(opts.accounts && { accounts: opts.accounts }),
    rules: opts.rules ?? [],
  });
  await writeFile(ca.configPath, yaml);
  await ca.console.reload(await loadConsoleConfig(ca.configPath));
  return {
    ...ca,
    yaml,
    async stop() {
      ca.console.close();
      await ca.stop();
    },
  };
}
