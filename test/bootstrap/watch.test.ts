// `bootstrap --watch` (bootstrap/src/watch.ts) against a real etcd 3.4 when a read fails or a value is pathological:
// the running registry keeps its config (a closed one stays closed), each refusal is one short log line, and the watch
// goes on to apply the next valid change.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { keygen } from '../../console-auth/src/keys.js';
import { startEtcd, startNodeProcess, stopAll, type Etcd, type ManagedProcess } from '../helpers/processes.js';
import { makeTempDir } from '../helpers/spawn.js';
import { startEtcdProxy } from './etcd-proxy.js';
import { BOOTSTRAP_CLI, isRunning, makeWorkspace, registryPid, stopRuns, waitForLog, type Workspace } from './harness.js';
import { withEtcdAuthentication } from '../helpers/etcd.js';

const AUTH = '/lain/config/auth/registry';
const STORAGE = '/lain/config/registry/storage';
const REFUSED = 'watch: change in etcd refused';
const NOT_READ = 'watch: etcd could not be read';
const READ_AGAIN = 'watch: etcd readable again';

describe('bootstrap --watch when etcd cannot be read as it should, or holds a pathological value', function () {
  let etcd: Etcd;
  let v3: Etcd3;
  let certDir: string;
  let certPath: string;
  const workspaces: Workspace[] = [];

  const authValue = (service: string) => JSON.stringify({ realm: 'http://console.lain.local/api/v1/authorize/registry/', issuer: 'auth server', service, rootcertbundle: certPath });

  /** bootstrap --watch reading every 0.2 s, started once its registry answers `ready`. */
  const watch = async (endpoint: string, ready: number) => {
    const ws = await makeWorkspace(endpoint);
    workspaces.push(ws);
    const statusOf = async () => (await fetch(`${ws.url}/v2/`).catch(() => undefined))?.status;
    const proc = await startNodeProcess(BOOTSTRAP_CLI, ['--watch'], ws.env({ BOOTSTRAP_WATCH_INTERVAL: '0.2' }), async () => (await statusOf()) === ready, { name: 'bootstrap' });
    return { ws, proc, statusOf };
  };
  // Undefined while a restart leaves nothing listening.
  const challenge = async (ws: Workspace) => (await fetch(`${ws.url}/v2/`).catch(() => undefined))?.headers.get('www-authenticate');
  const until = async (proc: ManagedProcess, done: () => Promise<boolean>) => {
    while (!(await done())) {
      if (!isRunning(proc.pid)) throw new Error(`bootstrap exited:\n${await proc.readLog()}`);
      await sleep(50);
    }
  };
  const stop = async (proc: ManagedProcess) => {
    process.kill(proc.pid, 'SIGTERM');
    expect((await proc.exited).code).to.equal(0);
    await proc.stop();
  };
  const registryStarts = async (proc: ManagedProcess) => (await proc.readLog()).match(/msg="registry started"/g)?.length ?? 0;

  before(async () => {
    etcd = await startEtcd(['--max-request-bytes', String(16 * 1024 * 1024)]);
    v3 = new Etcd3({ hosts: [etcd.endpoint] });
    certDir = await makeTempDir('watch-cert');
    ({ certPath } = await keygen(certDir, { bits: 1024 }));
  });
  afterEach(async () => {
    stopRuns();
    for (const key of [AUTH, STORAGE]) await etcd.delV3(key);
  });
  after(async () => {
    v3?.close();
    await stopAll();
    await etcd?.stop();
    for (const ws of workspaces) await ws.remove();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it('a failed v3 read (gRPC refused by a proxy, etcd authentication on) or a value over 4 MiB keeps the registry closed; a later valid change is applied', async () => {
    await etcd.putV3(AUTH, authValue('lain.local'));
    const proxy = await startEtcdProxy(etcd.endpoint);
    try {
      const { ws, proc, statusOf } = await watch(proxy.endpoint, 401);
      const first = await registryPid(proc);

      proxy.refuseGrpc = true;
      await waitForLog(proc, NOT_READ);
      expect(await statusOf()).to.equal(401);
      expect(await proc.readLog()).to.contain('gRPC refused');
      proxy.refuseGrpc = false;
      await waitForLog(proc, READ_AGAIN);

      await withEtcdAuthentication(etcd.endpoint, async () => {
        await waitForLog(proc, NOT_READ, 2);
        expect(await statusOf()).to.equal(401);
        expect(await proc.readLog()).to.contain('etcd authentication');
      });
      await waitForLog(proc, READ_AGAIN, 2);

      await v3.put(AUTH).value(JSON.stringify({ realm: 'x'.repeat(5 * 1000 * 1000) }));
      await waitForLog(proc, REFUSED);
      expect(await statusOf()).to.equal(401);
      expect(await registryStarts(proc)).to.equal(1);
      expect(isRunning(first)).to.equal(true);

      await etcd.putV3(AUTH, authValue('changed.lain.local'));
      await until(proc, async () => (await challenge(ws))?.includes('service="changed.lain.local"') === true);
      expect(isRunning(first), 'the first registry was replaced').to.equal(false);
      expect(await proc.readLog()).to.not.contain('none (open registry)');
      await stop(proc);
    } finally {
      await proxy.close();
    }
  });

  it('a value nested 20,000 deep and a 10 MB value are each refused in one short line, no stack trace; a later valid change is applied', async () => {
    const { proc, statusOf } = await watch(etcd.endpoint, 200);
    const depth = 20000;
    await etcd.putV3(STORAGE, `{"maintenance":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    await waitForLog(proc, REFUSED);
    expect(await proc.readLog()).to.contain('nests arrays and objects more than 32 levels deep');
    await v3.put(STORAGE).value(`{"maintenance":{"x":"${'z'.repeat(10 * 1000 * 1000)}"}}`);
    await waitForLog(proc, REFUSED, 2);
    expect(await statusOf()).to.equal(200);

    await etcd.delV3(STORAGE);
    await etcd.putV3(AUTH, authValue('lain.local'));
    await until(proc, async () => (await statusOf()) === 401);
    const log = await proc.readLog();
    expect(log).to.not.match(/RangeError|\n\s+at /);
    for (const line of log.split('\n')) expect(line.length, line.slice(0, 200)).to.be.lessThan(4096);
    await stop(proc);
  });
});
