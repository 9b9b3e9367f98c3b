// bootstrap reading etcd over TLS with a client certificate (ETCD_CA, ETCD_CERT, ETCD_KEY), against a real etcd 3.4
// that requires one, v3 (gRPC) and v2 (HTTPS) keyspaces alike. Certificates are made with the openssl CLI.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { keygen } from '../../console-auth/src/keys.js';
import { freePort, withPortRetry } from '../helpers/ports.js';
import { makeTempDir, startProcess, stopAll, type ManagedProcess } from '../helpers/spawn.js';
import { makePki } from '../helpers/pki.js';
import { runTool, toolPath } from '../helpers/tools.js';
import { makeWorkspace, runBootstrap, stopRuns, type Workspace } from './harness.js';

const AUTH = '/lain/config/auth/registry';

describe('bootstrap reads etcd over TLS', function () {
  let pki: string;
  let etcd: ManagedProcess;
  let endpoint: string;
  let ws: Workspace;

  const etcdctl = (api: '2' | '3', ...args: string[]) => {
    const tls = api === '2'
      ? ['--ca-file', join(pki, 'ca.pem'), '--cert-file', join(pki, 'client.pem'), '--key-file', join(pki, 'client.key'), '--no-sync']
      : ['--cacert', join(pki, 'ca.pem'), '--cert', join(pki, 'client.pem'), '--key', join(pki, 'client.key')];
    return runTool(toolPath('etcdctl'), ['--endpoints', endpoint, ...tls, ...args], { ETCDCTL_API: api });
  };

  before(async () => {
    pki = await makeTempDir('etcd-pki');
    await makePki(pki);
    etcd = await withPortRetry(async () => {
      endpoint = `https://127.0.0.1:${await freePort()}`;
      const peer = `http://127.0.0.1:${await freePort()}`;
      return startProcess({
        name: 'etcd-tls',
        command: toolPath('etcd'),
        args: [
          '--name', 'tls', '--data-dir', 'data', '--enable-v2', '--log-level', 'info', '--logger', 'zap', '--log-outputs', 'stderr',
          '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
          '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tls=${peer}`,
          '--cert-file', join(pki, 'server.pem'), '--key-file', join(pki, 'server.key'),
          '--trusted-ca-file', join(pki, 'ca.pem'), '--client-cert-auth',
        ],
        env: Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('ETCD')).map((k) => [k, undefined])),
        ready: async (p) => (await p.readLog()).includes('serving client traffic securely'),
      });
    });
    ws = await makeWorkspace(endpoint);
    const { certPath } = await keygen(join(ws.dir, 'auth'), { bits: 1024 });
    await etcdctl('3', 'put', AUTH, JSON.stringify({ realm: 'https://console.tls.local/api/v1/authorize/registry/', issuer: 'auth server', service: 'tls.local', rootcertbundle: certPath }));
    await etcdctl('2', 'set', '/lain/config/registry/storage', JSON.stringify({ delete: { enabled: false } }));
  });
  after(async () => {
    stopRuns();
    await etcd?.stop();
    await stopAll();
    await ws?.remove();
    if (pki) await rm(pki, { recursive: true, force: true });
  });

  const tlsEnv = () => ({ ETCD_CA: join(pki, 'ca.pem'), ETCD_CERT: join(pki, 'client.pem'), ETCD_KEY: join(pki, 'client.key') });

  it('reads the v3 and the v2 keyspace with the client certificate', async () => {
    const { code, stdout, stderr } = await runBootstrap(['render'], ws.env(tlsEnv()));
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain('service: tls.local');
    expect(stdout).to.match(/delete:\n {4}enabled: false/);
  });

  it('without a client certificate etcd refuses it: exit 3, naming the endpoint', async () => {
    const { code, stderr } = await runBootstrap(['render'], ws.env({ ETCD_CA: join(pki, 'ca.pem') }));
    expect(code).to.equal(3);
    expect(stderr).to.contain(`etcd at ${endpoint}: could not be read for 1 s`);
    expect(stderr).to.match(/v3 \(gRPC\) https:\/\/127\.0\.0\.1:\d+: TLS: /);
  });

  it('a TLS file that cannot be read: exit 1, naming the file and the variable', async () => {
    const missing = join(pki, 'nope.pem');
    const { code, stderr } = await runBootstrap(['render'], ws.env({ ...tlsEnv(), ETCD_CERT: missing }));
    expect(code).to.equal(1);
    expect(stderr).to.contain(`file ${missing} (environment variable ETCD_CERT): cannot be read (ENOENT)`);
  });
});
