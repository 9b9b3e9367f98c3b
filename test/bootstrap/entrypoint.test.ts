// bootstrap as the container's ENTRYPOINT, with the real `registry serve` as its child, a real etcd, console-auth
// tokens and skopeo: what an SA sees after `etcdctl set/put/rm` and a restart, and how signals and exits travel.
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { buildOciImage, skopeo, type BuiltImage } from '../helpers/images.js';
import { s3Client, startEtcd, startNodeProcess, startS3rver, stopAll, type Etcd, type ManagedProcess } from '../helpers/processes.js';
import { freePort } from '../helpers/ports.js';
import { makeTempDir } from '../helpers/spawn.js';
import { runTool } from '../helpers/tools.js';
import { BOOTSTRAP_CLI, DOCKERFILE, REGISTRY_CLI, dockerStop, isRunning, makeWorkspace, refused, registryPid, runBootstrap, startBootstrap, stopRuns, waitForLog, type Workspace } from './harness.js';

const AUTH = '/lain/config/auth/registry';
const STORAGE = '/lain/config/registry/storage';

describe('bootstrap as the container entrypoint', function () {
  let etcd: Etcd;
  let ca: ConsoleAuth;
  let image: BuiltImage;
  let imageDir: string;
  const workspaces: Workspace[] = [];

  const workspace = async (endpoint = etcd.endpoint) => {
    const ws = await makeWorkspace(endpoint);
    workspaces.push(ws);
    return ws;
  };
  const authValue = () => JSON.stringify({ realm: ca.realm, issuer: ca.issuer, service: ca.service, rootcertbundle: ca.certPath });

  before(async () => {
    etcd = await startEtcd();
    ca = await startConsoleAuth({ service: 'lain.local', accounts: { alice: 'alice-secret' }, rules: [{ account: 'alice', repository: '*', actions: ['*'] }] });
    imageDir = await makeTempDir('bootstrap-image');
    image = await buildOciImage(join(imageDir, 'layout'), { tag: 'v1', layers: 2 });
  });
  afterEach(async () => {
    stopRuns();
    for (const key of [AUTH, STORAGE]) {
      if ((await etcd.getV2(key)) !== undefined) await etcd.rmV2(key);
      await etcd.delV3(key);
    }
  });
  after(async () => {
    stopRuns();
    await stopAll();
    await etcd?.stop();
    await ca?.stop();
    for (const ws of workspaces) await ws.remove();
    if (imageDir) await rm(imageDir, { recursive: true, force: true });
  });

  it('auth on via `etcdctl set` (v2): the registry answers GET /v2/ with 401 and the realm and service from etcd', async () => {
    await etcd.setV2(AUTH, authValue());
    const ws = await workspace();
    const proc = await startBootstrap(ws);
    const res = await fetch(`${ws.url}/v2/`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal(`Bearer realm="${ca.realm}",service="lain.local"`);
    expect(await dockerStop(proc)).to.equal(0);
  });

  it('auth on via `etcdctl put` (v3): skopeo pushes and pulls with console-auth tokens; after `etcdctl del` and a restart, anonymous push works', async () => {
    await etcd.putV3(AUTH, authValue());
    const ws = await workspace();
    let proc = await startBootstrap(ws);
    const target = `docker://127.0.0.1:${ws.port}/team/app:v1`;
    const anonymous = await skopeo(['copy', '--dest-tls-verify=false', image.ref, target]).then(() => 'pushed', (err: Error) => err.message);
    expect(anonymous, anonymous).to.match(/requested access to the resource is denied/);
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:alice-secret', image.ref, target]);
    const pulled = join(ws.dir, 'pulled');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', 'alice:alice-secret', target, `oci:${pulled}:v1`]);
    const manifest = JSON.parse(await skopeo(['inspect', '--raw', `oci:${pulled}:v1`])) as { layers: { digest: string }[] };
    expect(manifest.layers.map((l) => l.digest)).to.deep.equal(image.manifest.layers.map((l) => l.digest));
    expect(await dockerStop(proc)).to.equal(0);

    await etcd.delV3(AUTH);
    proc = await startBootstrap(ws);
    expect((await fetch(`${ws.url}/v2/`)).status).to.equal(200);
    await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://127.0.0.1:${ws.port}/team/anonymous:v1`]);
    expect(await dockerStop(proc)).to.equal(0);
  });

  it('storage switched to S3 by `etcdctl set`: a skopeo push lands in the bucket, nothing on local disk', async () => {
    const s3 = await startS3rver({ bucket: 'lain-registry' });
    try {
      await etcd.setV2(STORAGE, JSON.stringify({
        s3: { region: s3.region, regionendpoint: s3.endpoint, forcepathstyle: true, bucket: s3.bucket, accesskey: s3.accessKey, secretkey: s3.secretKey, rootdirectory: '/lain' },
      }));
      const ws = await workspace();
      // The template's filesystem driver stays behind: no REGISTRY_STORAGE_FILESYSTEM_* variable may add it back, and
      // last-good goes to the workspace, not the template's /var/lib/registry.
      const proc = await startBootstrap(ws, { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined, BOOTSTRAP_STATE_DIR: ws.stateDir });
      expect(await proc.readLog()).to.contain('storage=s3');
      await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://127.0.0.1:${ws.port}/team/s3:v1`]);
      const keys: string[] = [];
      for await (const item of s3Client(s3).listObjectsV2(s3.bucket, 'lain/', true)) if (item.name) keys.push(item.name);
      expect(keys).to.include('lain/docker/registry/v2/repositories/team/s3/_manifests/tags/v1/current/link');
      for (const layer of image.manifest.layers) {
        const hex = layer.digest.slice('sha256:'.length);
        expect(keys).to.include(`lain/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`);
      }
      expect(await stat(join(ws.dataDir, 'docker')).then(() => 'written', () => 'absent')).to.equal('absent');
      expect(await dockerStop(proc)).to.equal(0);
    } finally {
      await s3.stop();
    }
  });

  it('--watch: auth turned on and off in etcd restarts the registry gracefully; a malformed change is refused and the registry keeps serving', async () => {
    const ws = await workspace();
    const statusOf = async () => (await fetch(`${ws.url}/v2/`).catch(() => undefined))?.status;
    const until = async (status: number) => {
      while ((await statusOf()) !== status) {
        if (!isRunning(proc.pid)) throw new Error(`bootstrap exited while waiting for ${status}:\n${await proc.readLog()}`);
        await sleep(50);
      }
    };
    const proc: ManagedProcess = await startNodeProcess(BOOTSTRAP_CLI, ['--watch'], ws.env({ BOOTSTRAP_WATCH_INTERVAL: '0.2' }), async () => (await statusOf()) === 200, { name: 'bootstrap' });
    const first = await registryPid(proc);
    await etcd.putV3(AUTH, authValue());
    await until(401);
    expect(isRunning(first), 'the first registry was replaced').to.equal(false);

    await etcd.putV3(AUTH, JSON.stringify({ realm: 'not a url', issuer: 'auth server', service: 'lain.local' }));
    await waitForLog(proc, 'watch: change in etcd refused');
    expect(await statusOf()).to.equal(401);
    expect(await proc.readLog()).to.contain('field "realm": "not a url" is not a URL');

    await etcd.delV3(AUTH);
    await until(200);
    const pids = [...(await proc.readLog()).matchAll(/msg="registry started".*registryPid=(\d+)/g)].map((m) => Number(m[1]));
    expect(pids).to.have.length(3);
    process.kill(proc.pid, 'SIGTERM');
    expect((await proc.exited).code).to.equal(0);
    for (const pid of pids) expect(isRunning(pid), `registry ${pid} left running`).to.equal(false);
    await proc.stop();
  });

  it('a malformed auth key stops the start with the fix in the log and never opens a registry, last-good or not', async () => {
    await etcd.setV2(AUTH, authValue());
    const ws = await workspace();
    expect(await dockerStop(await startBootstrap(ws))).to.equal(0);
    await etcd.setV2(AUTH, JSON.stringify({ realm: 'console.lain.local', issuer: 'auth server', service: 'lain.local' }));
    const { code, stdout, stderr } = await runBootstrap([], ws.env());
    expect(code).to.equal(1);
    expect(stdout).to.match(/level=fatal msg="refusing to start the registry; what is wrong and the fix are on stderr".*toFix=.*\/lain\/config\/auth\/registry/);
    expect(stderr).to.contain('field "realm": "console.lain.local" is not a URL');
    expect(stderr).to.contain(`Fix: ETCDCTL_API=2 etcdctl set /lain/config/auth/registry '{"realm":"http://console.lain.local/api/v1/authorize/registry/"`);
    expect(stdout).to.not.contain('registry started');
    expect(await refused(`${ws.url}/v2/`)).to.equal(true);
  });

  it('the fix command of a refused start pastes as printed: bash runs it, etcd holds the value byte for byte, the next start is closed', async () => {
    // A realm with a single quote, and no issuer: the fix adds LAIN's issuer and keeps the realm as written.
    const realm = `${ca.realm}?team=o'brien`;
    await etcd.setV2(AUTH, JSON.stringify({ realm, service: ca.service, rootcertbundle: ca.certPath }));
    const ws = await workspace();
    const { code, stderr } = await runBootstrap([], ws.env());
    expect(code).to.equal(1);
    const printed = /Fix: (ETCDCTL_API=2 etcdctl set .*)$/m.exec(stderr)?.[1];
    expect(printed, stderr).to.be.a('string');
    await runTool('/bin/bash', ['-c', printed ?? ''], { ETCDCTL_ENDPOINTS: etcd.endpoint, PATH: `/usr/bin:${process.env.PATH ?? ''}` });
    expect(await etcd.getV2(AUTH)).to.equal(JSON.stringify({ realm, issuer: 'auth server', service: ca.service, rootcertbundle: ca.certPath }));
    const proc = await startBootstrap(ws);
    const res = await fetch(`${ws.url}/v2/`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.contain(`realm="${realm}"`);
    expect(await dockerStop(proc)).to.equal(0);
  });

  it('etcd down at a restart: the registry comes back on the last-good config, auth still on, and says so', async () => {
    const own = await startEtcd();
    try {
      await own.setV2(AUTH, authValue());
      const ws = await workspace(own.endpoint);
      expect(await dockerStop(await startBootstrap(ws))).to.equal(0);
      await own.stop();
      const proc = await startBootstrap(ws);
      expect((await fetch(`${ws.url}/v2/`)).status).to.equal(401);
      const log = await proc.readLog();
      expect(log).to.contain('level=warn msg="etcd could not be read, retrying"');
      expect(log).to.contain(`ETCD NOT READABLE: STARTING ON THE LAST-GOOD CONFIG ${ws.lastGood}`);
      expect(await dockerStop(proc)).to.equal(0);
    } finally {
      await own.stop();
    }
  });

  it('etcd down and no last-good config: exit 3 naming the endpoints, nothing listening', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const ws = await workspace(dead);
    const { code, stdout, stderr } = await runBootstrap([], ws.env());
    expect(code).to.equal(3);
    expect(stderr).to.contain(`etcd at ${dead}: could not be read for 1 s`);
    expect(stdout).to.contain('level=fatal');
    expect(await refused(`${ws.url}/v2/`)).to.equal(true);
  });

  it('ETCD_ENDPOINTS=none, as `docker run -e REGISTRY_AUTH=htpasswd ...`: serves from the template and REGISTRY_* alone, reads no etcd, saves no last-good', async () => {
    const ws = await workspace();
    const htpasswd = join(ws.dir, 'htpasswd');
    await writeFile(htpasswd, `alice:${await bcrypt.hash('wonderland', 4)}\n`);
    // What etcd holds is not read: its auth key would be token auth.
    await etcd.putV3(AUTH, authValue());
    const env = { ETCD_ENDPOINTS: 'none', REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_REALM: 'basic-realm', REGISTRY_AUTH_HTPASSWD_PATH: htpasswd };
    const proc = await startBootstrap(ws, env);
    const res = await fetch(`${ws.url}/v2/`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal('Basic realm="basic-realm"');
    const authorized = await fetch(`${ws.url}/v2/`, { headers: { authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` } });
    expect(authorized.status).to.equal(200);
    expect(await proc.readLog()).to.contain('config rendered from the template and REGISTRY_* alone: ETCD_ENDPOINTS=none');
    expect(await dockerStop(proc)).to.equal(0);
    expect(await stat(ws.lastGood).then(() => 'saved', () => 'absent')).to.equal('absent');

    const watching = await runBootstrap(['--watch'], ws.env(env));
    expect(watching.code).to.equal(2);
    expect(watching.stderr).to.contain('--watch reads etcd, and ETCD_ENDPOINTS=none says there is none');
    const mixed = await runBootstrap(['render'], ws.env({ ...env, ETCD_ENDPOINTS: `none,${etcd.endpoint}` }));
    expect(mixed.code).to.equal(1);
    expect(mixed.stderr).to.contain('environment variable ETCD_ENDPOINTS: "none" cannot be listed with etcd endpoints');
  });

  it('an unreachable etcd is never taken for "no etcd": with REGISTRY_AUTH=htpasswd and no ETCD_ENDPOINTS=none it exits 3, nothing listening', async () => {
    const ws = await workspace(`http://127.0.0.1:${await freePort()}`);
    const htpasswd = join(ws.dir, 'htpasswd');
    await writeFile(htpasswd, `alice:${await bcrypt.hash('wonderland', 4)}\n`);
    const { code } = await runBootstrap([], ws.env({ REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_REALM: 'r', REGISTRY_AUTH_HTPASSWD_PATH: htpasswd }));
    expect(code).to.equal(3);
    expect(await refused(`${ws.url}/v2/`)).to.equal(true);
  });

  it('the image\'s HEALTHCHECK command passes where the rendered config puts the registry (not :5000), and fails once it stopped', async () => {
    const command = /^HEALTHCHECK .*\\\n\s+CMD (.+)$/m.exec(await readFile(DOCKERFILE, 'utf8'))?.[1];
    expect(command, 'the HEALTHCHECK of the Dockerfile').to.be.a('string');
    const ws = await workspace();
    // `registry` on PATH, as the image links it into /usr/local/bin.
    const bin = join(ws.dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'registry'), `#!/bin/sh\nexec "${process.execPath}" "${REGISTRY_CLI}" "$@"\n`, { mode: 0o755 });
    // Docker runs it with the container's environment: BOOTSTRAP_CONFIG_OUT and REGISTRY_HTTP_ADDR as bootstrap has them.
    const env = { ...ws.env(), PATH: `${bin}:${process.env.PATH ?? ''}` };
    const proc = await startBootstrap(ws);
    expect(await runTool('/bin/sh', ['-c', command ?? ''], env)).to.equal(`healthy: GET http://127.0.0.1:${ws.port}/v2/ answered 200\n`);
    expect(await dockerStop(proc)).to.equal(0);
    const stopped = await runTool('/bin/sh', ['-c', command ?? ''], env).then(() => 'healthy', (err: Error) => err.message);
    expect(stopped).to.contain(`registry: unhealthy: GET http://127.0.0.1:${ws.port}/v2/: connect ECONNREFUSED`);
  });

  it('SIGTERM during a blob upload: the upload completes, then the registry and bootstrap exit 0', async () => {
    const ws = await workspace();
    const proc = await startBootstrap(ws);
    const start = await fetch(`${ws.url}/v2/team/drain/blobs/uploads/`, { method: 'POST' });
    expect(start.status).to.equal(202);
    const location = new URL(start.headers.get('location') ?? '', ws.url);
    const halves = [Buffer.alloc(512 * 1024, 1), Buffer.alloc(512 * 1024, 2)];
    const digest = `sha256:${createHash('sha256').update(Buffer.concat(halves)).digest('hex')}`;
    location.searchParams.set('digest', digest);
    let sendRest: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => (sendRest = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(halves[0]);
        await rest;
        controller.enqueue(halves[1]);
        controller.close();
      },
    });
    const put = fetch(location, { method: 'PUT', body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
    const child = await registryPid(proc);
    // The first half has reached the upload's data file: the request is in flight when the signal comes.
    const uuid = location.pathname.split('/').pop() ?? '';
    const data = join(ws.dataDir, 'docker/registry/v2/repositories/team/drain/_uploads', uuid, 'data');
    while (((await stat(data).catch(() => undefined))?.size ?? 0) === 0) await sleep(20);
    process.kill(proc.pid, 'SIGTERM');
    await waitForLog(proc, 'msg="shutting down"');
    sendRest();
    const res = await put;
    expect(res.status).to.equal(201);
    expect(res.headers.get('docker-content-digest')).to.equal(digest);
    const { code } = await proc.exited;
    expect(code).to.equal(0);
    expect(isRunning(child)).to.equal(false);
    await proc.stop();
  });

  it('exits with the registry\'s own exit code when the registry fails (port taken)', async () => {
    const ws = await workspace();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(ws.port, '127.0.0.1', resolve));
    try {
      const viaBootstrap = await runBootstrap([], ws.env());
      const direct = await startNodeProcess(REGISTRY_CLI, ['serve', ws.configOut], ws.env(), async () => false, { name: 'registry' }).then(
        () => undefined,
        (err: Error) => err.message,
      );
      const directCode = /exited during startup \(code (\d+)/.exec(direct ?? '')?.[1];
      expect(directCode, direct).to.not.equal(undefined);
      expect(viaBootstrap.code).to.equal(Number(directCode)).and.to.not.equal(0);
    } finally {
      blocker.close();
    }
  });

  it('exits 128+9 when the registry is killed by SIGKILL', async () => {
    const ws = await workspace();
    const proc = await startBootstrap(ws);
    process.kill(await registryPid(proc), 'SIGKILL');
    expect((await proc.exited).code).to.equal(137);
    await proc.stop();
  });

  it('forwards SIGINT as well', async () => {
    const ws = await workspace();
    const proc = await startBootstrap(ws);
    const child = await registryPid(proc);
    process.kill(proc.pid, 'SIGINT');
    expect((await proc.exited).code).to.equal(0);
    expect(isRunning(child)).to.equal(false);
    await proc.stop();
  });

  it('SIGTERM while still waiting for etcd ends bootstrap at once (exit 143), as PID 1 would otherwise ignore it', async () => {
    const ws = await workspace(`http://127.0.0.1:${await freePort()}`);
    const proc = await startNodeProcess(BOOTSTRAP_CLI, [], ws.env({ BOOTSTRAP_ETCD_TIMEOUT: '600' }), async (p) => (await p.readLog()).includes('etcd could not be read, retrying'), { name: 'bootstrap' });
    process.kill(proc.pid, 'SIGTERM');
    expect((await proc.exited).code).to.equal(143);
    await proc.stop();
  });
});
