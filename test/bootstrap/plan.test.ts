// What bootstrap starts when etcd cannot be read as it should (bootstrap/src/plan.ts), run as the container runs it
// against a real etcd 3.4 whose auth key was set through v3 (`etcdctl put`): the v2 keyspace's "absent" never stands
// in for a failed v3 read, so the registry stays closed, on its last-good config or not at all.
import { expect } from 'chai';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';
import { keygen } from '../../console-auth/src/keys.js';
import { startEtcd, stopAll, type Etcd } from '../helpers/processes.js';
import { makeTempDir } from '../helpers/spawn.js';
import { startEtcdProxy } from './etcd-proxy.js';
import { dockerStop, makeWorkspace, refused, runBootstrap, startBootstrap, stopRuns, TEMPLATE, type Workspace } from './harness.js';
import { ETCD_ROOT, withEtcdAuthentication } from '../helpers/etcd.js';

const AUTH = '/lain/config/auth/registry';

describe('bootstrap start when etcd cannot be read as it should', function () {
  let etcd: Etcd;
  let authValue: string;
  let certDir: string;
  const workspaces: Workspace[] = [];

  const workspace = async (endpoint = etcd.endpoint) => {
    const ws = await makeWorkspace(endpoint);
    workspaces.push(ws);
    return ws;
  };
  const status = async (ws: Workspace) => (await fetch(`${ws.url}/v2/`)).status;

  /** A workspace whose last-good config has token auth on, as a start that read etcd would have saved it. */
  const closedLastGood = async (endpoint?: string) => {
    const ws = await workspace(endpoint);
    const token = JSON.parse(authValue) as Record<string, string>;
    const lastGood = `${await readFile(TEMPLATE, 'utf8')}auth:\n  token:\n${Object.entries(token).map(([k, v]) => `    ${k}: ${v}\n`).join('')}`;
    await mkdir(ws.stateDir, { recursive: true });
    await writeFile(ws.lastGood, lastGood);
    return { ws, lastGood };
  };

  /** The start on last-good: still 401, last-good untouched, and the log says why etcd was not read. */
  const startsClosedOnLastGood = async (ws: Workspace, lastGood: string, cause: RegExp) => {
    const proc = await startBootstrap(ws);
    expect(await status(ws)).to.equal(401);
    const log = await proc.readLog();
    expect(log).to.contain(`ETCD NOT READABLE: STARTING ON THE LAST-GOOD CONFIG ${ws.lastGood}`);
    expect(log).to.match(cause);
    expect(log).to.not.contain('absent');
    expect(log).to.not.contain('none (open registry)');
    expect(await dockerStop(proc)).to.equal(0);
    expect(await readFile(ws.lastGood, 'utf8')).to.equal(lastGood);
  };

  /** Without a last-good config, bootstrap would refuse to start (exit 3): render says so. */
  const refusesWithoutLastGood = async (endpoint: string, cause: RegExp) => {
    const ws = await workspace(endpoint);
    const render = await runBootstrap(['render'], ws.env());
    expect(render.code, render.stderr).to.equal(3);
    expect(render.stderr).to.match(cause);
    expect(render.stderr).to.not.contain('none (open registry)');
  };

  before(async () => {
    etcd = await startEtcd(['--max-request-bytes', String(16 * 1024 * 1024)]);
    certDir = await makeTempDir('plan-cert');
    const { certPath } = await keygen(certDir, { bits: 1024 });
    authValue = JSON.stringify({ realm: 'http://console.lain.local/api/v1/authorize/registry/', issuer: 'auth server', service: 'lain.local', rootcertbundle: certPath });
  });
  beforeEach(() => etcd.putV3(AUTH, authValue));
  afterEach(async () => {
    stopRuns();
    await etcd.delV3(AUTH);
  });
  after(async () => {
    stopRuns();
    await stopAll();
    await etcd?.stop();
    for (const ws of workspaces) await ws.remove();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it('etcd authentication enabled: starts closed on the last-good config naming authentication; without one, exit 3', async () => {
    const { ws, lastGood } = await closedLastGood();
    await withEtcdAuthentication(etcd.endpoint, async () => {
      const cause = /etcd authentication: .*user name is empty/;
      await startsClosedOnLastGood(ws, lastGood, cause);
      await refusesWithoutLastGood(etcd.endpoint, cause);
      // With the credentials bootstrap reads etcd again, and renders afresh.
      const { code, stderr } = await runBootstrap(['render'], ws.env({ ETCD_USERNAME: ETCD_ROOT.username, ETCD_PASSWORD: ETCD_ROOT.password }));
      expect(code, stderr).to.equal(0);
      expect(stderr).to.contain('valid; bootstrap would start the registry with auth: token');
    });
  });

  it('a path to etcd that refuses gRPC but passes HTTP/1.1: starts closed on the last-good config naming gRPC; without one, exit 3', async () => {
    const proxy = await startEtcdProxy(etcd.endpoint);
    try {
      const { ws, lastGood } = await closedLastGood(proxy.endpoint);
      proxy.refuseGrpc = true;
      const cause = /gRPC refused/;
      await startsClosedOnLastGood(ws, lastGood, cause);
      await refusesWithoutLastGood(proxy.endpoint, cause);
    } finally {
      await proxy.close();
    }
  });

  it('an auth value over gRPC\'s 4 MiB receive limit: refused (exit 1) in a short message naming the key and the limit, nothing listens', async () => {
    const { ws, lastGood } = await closedLastGood();
    const client = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      await client.put(AUTH).value(JSON.stringify({ realm: `http://console.lain.local/${'x'.repeat(5 * 1000 * 1000)}` }));
    } finally {
      client.close();
    }
    const { code, stdout, stderr } = await runBootstrap([], ws.env());
    expect(code).to.equal(1);
    expect(stderr).to.match(/etcd key \/lain\/config\/auth\/registry \(v3, etcdctl put\): is larger than 64 KiB/);
    expect(stdout.length + stderr.length).to.be.lessThan(4096);
    expect(await refused(`${ws.url}/v2/`)).to.equal(true);
    expect(await readFile(ws.lastGood, 'utf8')).to.equal(lastGood);
  });
});
