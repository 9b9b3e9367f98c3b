// `bootstrap render` against a real etcd 3.4 (v2 and v3 keyspaces) and the shipped template: every way an SA can
// set, remove or get a key wrong, and what an SA reads back.
import { expect } from 'chai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keygen } from '../../console-auth/src/keys.js';
import { startEtcd, stopAll, type Etcd } from '../helpers/processes.js';
import { freePort } from '../helpers/ports.js';
import { runTool } from '../helpers/tools.js';
import { TEMPLATE, makeWorkspace, runBootstrap, stopRuns, type Workspace } from './harness.js';

const AUTH = '/lain/config/auth/registry';
const STORAGE = '/lain/config/registry/storage';

describe('bootstrap render', function () {
  let etcd: Etcd;
  let ws: Workspace;
  let certPath: string;
  // A valid auth value, pointing rootcertbundle at a real certificate.
  let auth: Record<string, string>;

  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    stopRuns();
    await etcd?.stop();
    await stopAll();
  });
  beforeEach(async () => {
    ws = await makeWorkspace(etcd.endpoint);
    ({ certPath } = await keygen(join(ws.dir, 'auth'), { bits: 1024 }));
    auth = { realm: 'http://console.lain.local/api/v1/authorize/registry/', issuer: 'auth server', service: 'lain.local', rootcertbundle: certPath };
  });
  afterEach(async () => {
    for (const key of [AUTH, STORAGE]) {
      if ((await etcd.getV2(key)) !== undefined) await etcd.rmV2(key);
      await etcd.delV3(key);
    }
    await ws.remove();
  });

  const render = (extraArgs: string[] = [], env = {}) => runBootstrap(['render', ...extraArgs], ws.env(env));

  it('renders the template as is (no auth, local disk) when etcd holds no key', async () => {
    const { code, stdout, stderr } = await render();
    expect(code, stderr).to.equal(0);
    expect(stdout).to.not.match(/^auth:/m);
    expect(stdout).to.contain(`rootdirectory: ${ws.dataDir}`);
    expect(stdout).to.contain(`addr: 127.0.0.1:${ws.port}`);
    expect(stderr).to.contain('valid; bootstrap would start the registry with auth: none (open registry); storage: filesystem');
  });

  it('turns token auth on from `etcdctl set` (v2), with the rootcertbundle the JSON names', async () => {
    await etcd.setV2(AUTH, JSON.stringify(auth));
    const out = join(ws.dir, 'rendered.yml');
    const { code, stdout, stderr } = await render(['--out', out]);
    expect(code, stderr).to.equal(0);
    for (const text of [stdout, await readFile(out, 'utf8')]) {
      expect(text).to.match(/^auth:\n {2}token:\n/m);
      expect(text).to.contain('realm: http://console.lain.local/api/v1/authorize/registry/');
      expect(text).to.contain('service: lain.local');
      expect(text).to.contain('issuer: auth server');
      expect(text).to.contain(`rootcertbundle: ${certPath}`);
    }
    expect(stderr).to.contain('auth: token, realm http://console.lain.local/api/v1/authorize/registry/, service lain.local');
    // render starts nothing and keeps no state.
    expect(await readFile(ws.lastGood).catch(() => 'absent')).to.equal('absent');
    expect(await readFile(ws.configOut).catch(() => 'absent')).to.equal('absent');
  });

  it('turns token auth on from `etcdctl put` (v3)', async () => {
    await etcd.putV3(AUTH, JSON.stringify({ ...auth, service: 'v3.lain.local' }));
    const { code, stdout, stderr } = await render();
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain('service: v3.lain.local');
  });

  it('takes REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE beside the auth key that `lainctl auth open` writes (realm, issuer, service only)', async () => {
    const { rootcertbundle: _unused, ...opened } = auth;
    await etcd.putV3(AUTH, JSON.stringify(opened));
    const { code, stdout, stderr } = await render([], { REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: certPath });
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain(`realm: ${auth.realm}`);
    expect(stderr).to.contain('valid; bootstrap would start the registry with auth: token');
  });

  it('prefers the v3 value when both keyspaces hold the key, and says it ignored the v2 one', async () => {
    await etcd.setV2(AUTH, JSON.stringify({ ...auth, service: 'from-v2' }));
    await etcd.putV3(AUTH, JSON.stringify({ ...auth, service: 'from-v3' }));
    const { code, stdout, stderr } = await render();
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain('service: from-v3');
    expect(stderr).to.contain('set in both the v3 and the v2 keyspace');
  });

  it('turns auth off after `etcdctl rm`', async () => {
    await etcd.setV2(AUTH, JSON.stringify(auth));
    expect((await render()).stdout).to.match(/^auth:/m);
    await etcd.rmV2(AUTH);
    const { code, stdout } = await render();
    expect(code).to.equal(0);
    expect(stdout).to.not.match(/^auth:/m);
  });

  it('defaults rootcertbundle to /lain/app/auth/server.pem and refuses when that file cannot be read', async () => {
    const { rootcertbundle: _unused, ...lainctl } = auth;
    await etcd.setV2(AUTH, JSON.stringify(lainctl));
    const { code, stdout, stderr } = await render();
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr).to.contain('file /lain/app/auth/server.pem (rootcertbundle of etcd key /lain/config/auth/registry (v2, etcdctl set), the default): cannot be read (ENOENT)');
    expect(stderr).to.contain(`Fix: mount the token server's certificate (PEM) at /lain/app/auth/server.pem, or point the key at where it is: ETCDCTL_API=2 etcdctl set /lain/config/auth/registry '{"realm":"http://console.lain.local/api/v1/authorize/registry/","issuer":"auth server","service":"lain.local","rootcertbundle":"<path of the file>"}'`);
    expect(stderr).to.contain('NOT valid; bootstrap would refuse to start');
  });

  it('refuses a rootcertbundle that holds no certificate', async () => {
    const notPem = join(ws.dir, 'not.pem');
    await writeFile(notPem, 'hello');
    await etcd.putV3(AUTH, JSON.stringify({ ...auth, rootcertbundle: notPem }));
    const { code, stderr } = await render();
    expect(code).to.equal(1);
    expect(stderr).to.contain(`file ${notPem} (rootcertbundle of etcd key /lain/config/auth/registry (v3, etcdctl put)): holds no PEM certificate`);
  });

  describe('a malformed auth key is refused with the key, the field, what is wrong and the command that fixes it', () => {
    const cases: { name: string; value: (a: Record<string, string>) => string; expected: string; fix: string }[] = [
      {
        name: 'invalid JSON',
        value: () => `{"realm":"http://console.lain.local/api/v1/authorize/registry/",`,
        expected: 'etcd key /lain/config/auth/registry (v2, etcdctl set): is not valid JSON',
        fix: `Fix: ETCDCTL_API=2 etcdctl set /lain/config/auth/registry '{"realm":"http://console.<domain>/api/v1/authorize/registry/","issuer":"auth server","service":"<domain>"}'`,
      },
      {
        name: 'not an object',
        value: () => '"on"',
        expected: 'etcd key /lain/config/auth/registry (v2, etcdctl set): must be a JSON object, got "on"',
        fix: 'Fix: ETCDCTL_API=2 etcdctl set /lain/config/auth/registry',
      },
      {
        name: 'a missing field',
        value: (a) => JSON.stringify({ realm: a.realm, service: a.service }),
        expected: 'etcd key /lain/config/auth/registry (v2, etcdctl set): field "issuer": is missing',
        fix: `Fix: ETCDCTL_API=2 etcdctl set /lain/config/auth/registry '{"realm":"http://console.lain.local/api/v1/authorize/registry/","issuer":"auth server","service":"lain.local"}'`,
      },
      {
        name: 'a field of the wrong type',
        value: (a) => JSON.stringify({ ...a, service: 42 }),
        expected: 'field "service": expected a string, got 42',
        // The domain is taken from the realm's console.<domain> host.
        fix: `"issuer":"auth server","service":"lain.local","rootcertbundle"`,
      },
      {
        name: 'a realm that is not a URL',
        value: (a) => JSON.stringify({ ...a, realm: 'console.lain.local/api/v1/authorize/registry/' }),
        expected: 'field "realm": "console.lain.local/api/v1/authorize/registry/" is not a URL',
        fix: `'{"realm":"http://console.lain.local/api/v1/authorize/registry/","issuer":"auth server","service":"lain.local"`,
      },
      {
        name: 'a realm that is not http(s)',
        value: (a) => JSON.stringify({ ...a, realm: 'ftp://console.lain.local/' }),
        expected: 'field "realm": "ftp://console.lain.local/" is not an http or https URL',
        fix: 'Fix: ETCDCTL_API=2 etcdctl set',
      },
      {
        name: 'a misspelt field',
        value: (a) => JSON.stringify({ realm: a.realm, service: a.service, issuer: a.issuer, rootcertbundel: a.rootcertbundle }),
        expected: 'field "rootcertbundel": unknown field (did you mean "rootcertbundle"?)',
        fix: 'Fix: ETCDCTL_API=2 etcdctl set',
      },
    ];
    for (const c of cases) {
      it(`${c.name}: exit 1, nothing rendered`, async () => {
        await etcd.setV2(AUTH, c.value(auth));
        const { code, stdout, stderr } = await render();
        expect(code, stderr).to.equal(1);
        expect(stdout).to.equal('');
        expect(stderr).to.contain(c.expected);
        expect(stderr).to.contain(c.fix);
        expect(stderr.trim().split('\n')).to.have.length(2);
      });
    }
  });

  it('refuses a malformed auth key even when a last-good config exists', async () => {
    await mkdir(ws.stateDir, { recursive: true });
    await writeFile(ws.lastGood, await readFile(TEMPLATE, 'utf8'));
    await etcd.putV3(AUTH, '{"realm":');
    const { code, stdout } = await render();
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
  });

  it('switches storage to the driver the storage key names and merges its other settings into the template', async () => {
    await etcd.setV2(STORAGE, JSON.stringify({
      s3: { region: 'us-east-1', bucket: 'images', accesskey: 'AKIAEXAMPLE', secretkey: 'very-secret', regionendpoint: 'http://127.0.0.1:9000' },
      maintenance: { readonly: { enabled: true } },
    }));
    const out = join(ws.dir, 'rendered.yml');
    const { code, stdout, stderr } = await runBootstrap(['render', '--out', out], ws.env({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined }));
    expect(code, stderr).to.equal(0);
    expect(stderr).to.contain('storage: s3');
    const rendered = await readFile(out, 'utf8');
    expect(rendered).to.not.contain('filesystem');
    expect(rendered).to.contain('bucket: images');
    expect(rendered).to.contain('secretkey: very-secret');
    // The template's settings stay where etcd does not replace them.
    expect(rendered).to.match(/delete:\n {4}enabled: true/);
    expect(rendered).to.match(/uploadpurging:\n {6}enabled: false/);
    expect(rendered).to.match(/readonly:\n {6}enabled: true/);
    expect(stdout).to.not.contain('very-secret');
    expect(stdout).to.contain('bucket: images');
  });

  it('names the REGISTRY_* variable that adds a second driver next to the one etcd names', async () => {
    await etcd.putV3(STORAGE, JSON.stringify({ inmemory: null }));
    const { code, stderr } = await render();
    expect(code).to.equal(1);
    expect(stderr).to.contain('environment variable REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: storage: exactly one driver must be configured');
    expect(stderr).to.contain('Fix: correct or unset REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY');
  });

  it('keeps the template driver when the storage key only changes settings', async () => {
    await etcd.putV3(STORAGE, JSON.stringify({ delete: { enabled: false } }));
    const { code, stdout, stderr } = await render();
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain(`rootdirectory: ${ws.dataDir}`);
    expect(stdout).to.match(/delete:\n {4}enabled: false/);
  });

  describe('a bad storage key is refused with the key, the field and the fix', () => {
    const cases: { name: string; value: string; expected: string; fix: string }[] = [
      {
        name: 'invalid JSON',
        value: '{s3: {}}',
        expected: 'etcd key /lain/config/registry/storage (v3, etcdctl put): is not valid JSON',
        fix: `Fix: ETCDCTL_API=3 etcdctl put /lain/config/registry/storage '{"s3":{"region":"<region>","bucket":"<bucket>","accesskey":"<accesskey>","secretkey":"<secretkey>"}}'  # or, for local disk: ETCDCTL_API=3 etcdctl del /lain/config/registry/storage`,
      },
      {
        name: 'an unknown driver',
        value: JSON.stringify({ azure: { accountname: 'a' } }),
        expected: 'field "azure": unknown storage driver or setting; drivers: filesystem, inmemory, s3, oss',
        fix: `'{"s3":{"region":"<region>"`,
      },
      {
        name: 'a misspelt driver',
        value: JSON.stringify({ S3: { region: 'r', bucket: 'b' } }),
        expected: 'field "S3": unknown storage driver or setting (did you mean "s3"?)',
        fix: `'{"s3":{"region":"r","bucket":"b"}}'`,
      },
      {
        name: 'two drivers',
        value: JSON.stringify({ s3: { region: 'r', bucket: 'b', accesskey: 'k', secretkey: 'hush' }, filesystem: { rootdirectory: '/srv' } }),
        expected: 'names 2 storage drivers (s3, filesystem); exactly one is allowed',
        fix: `Fix: ETCDCTL_API=3 etcdctl put /lain/config/registry/storage '{"s3":{"region":"r","bucket":"b","accesskey":"k","secretkey":"<secretkey>"}}'  # keeps one driver, s3; or, for local disk:`,
      },
      {
        name: 'a driver field the registry requires (checked by its own validator)',
        value: JSON.stringify({ s3: { region: 'r', accesskey: 'k', secretkey: 'hush' } }),
        expected: 'etcd key /lain/config/registry/storage (v3, etcdctl put): field "s3.bucket": required',
        fix: `'{"s3":{"region":"r","accesskey":"k","secretkey":"<secretkey>","bucket":"<bucket>"}}'`,
      },
      {
        name: 'a setting of the wrong type',
        value: JSON.stringify({ delete: true }),
        expected: 'field "delete": expected a JSON object, got true',
        fix: `'{"delete":{}}'`,
      },
    ];
    for (const c of cases) {
      it(`${c.name}: exit 1, secrets never echoed`, async () => {
        await etcd.putV3(STORAGE, c.value);
        // The harness's REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY would be a second driver next to etcd's.
        const { code, stdout, stderr } = await render([], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined });
        expect(code, stderr).to.equal(1);
        expect(stdout).to.equal('');
        expect(stderr).to.contain(c.expected);
        expect(stderr).to.contain(c.fix);
        expect(stderr).to.not.contain('hush');
      });
    }
  });

  describe('values the registry could not run with are refused at render time, naming the key and the field', () => {
    /** Stores raw bytes through etcd's v3 gateway: etcdctl takes its value as an argument, which must be text. */
    const putBytesV3 = async (key: string, value: Buffer): Promise<void> => {
      const res = await fetch(`${etcd.endpoint}/v3/kv/put`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: value.toString('base64') }),
      });
      expect(res.status).to.equal(200);
    };
    const refused = async (env = {}) => {
      const { code, stdout, stderr } = await render([], env);
      expect(code, stderr).to.equal(1);
      expect(stdout).to.equal('');
      expect(stderr).to.contain('NOT valid; bootstrap would refuse to start');
      return stderr;
    };
    const AUTH_SOURCE = 'etcd key /lain/config/auth/registry (v3, etcdctl put):';

    for (const [what, field, value, reason] of [
      ['a newline', 'realm', 'http://console.lain.local/api/v1/authorize/\nregistry/', 'contains a line feed (U+000A) at character 44'],
      ['a carriage return', 'realm', 'http://console.lain.local/api/v1/authorize/registry/\r', 'contains a carriage return (U+000D)'],
      ['a NUL', 'service', 'lain.local\0', 'contains a NUL (U+0000) at character 11'],
      ['non-Latin-1 text', 'service', '镜像.lain.local', 'contains "镜" (U+955C) at character 1'],
      ['a double quote', 'service', 'lain"local', 'which would end the quoted parameter of the WWW-Authenticate challenge'],
    ]) {
      it(`an auth ${field} with ${what}, which made the registry answer a bare 500 to every request`, async () => {
        await etcd.putV3(AUTH, JSON.stringify({ ...auth, [field]: value }));
        const stderr = await refused();
        expect(stderr, stderr).to.contain(`${AUTH_SOURCE} field "${field}": `);
        expect(stderr).to.contain(reason);
      });
    }

    it('an auth realm with bytes that are not UTF-8', async () => {
      const json = Buffer.from(JSON.stringify({ ...auth, realm: 'http://console.lain.local/XX/' }));
      const at = json.indexOf('XX');
      json[at] = 0xff;
      json[at + 1] = 0xfe;
      await putBytesV3(AUTH, json);
      const stderr = await refused();
      expect(stderr).to.contain(`${AUTH_SOURCE} field "realm":`);
      expect(stderr).to.contain('UTF-8');
    });

    // Values over 64 KiB are refused before they are read (etcd.test.ts); this one is read, then refused as a header.
    it('a 10 kB realm, which the registry would send in every WWW-Authenticate header, in a short message', async () => {
      const realm = `http://console.lain.local/${'a'.repeat(10_000)}`;
      await putBytesV3(AUTH, Buffer.from(JSON.stringify({ ...auth, realm })));
      const stderr = await refused();
      expect(stderr).to.contain(`${AUTH_SOURCE} field "realm": is ${realm.length} characters long; a value sent in a response header may have at most 2048`);
      expect(stderr).to.not.contain('a'.repeat(200));
    });

    it('jwks: /dev/null, which made the registry refuse to start', async () => {
      await etcd.putV3(AUTH, JSON.stringify({ ...auth, jwks: '/dev/null' }));
      const stderr = await refused();
      expect(stderr).to.contain(`file /dev/null (jwks of etcd key /lain/config/auth/registry (v3, etcdctl put)): is a character device, not a regular file. Fix: mount the token server's JSON Web Key Set at /dev/null, or point the key at where it is:`);
    });

    it('signingalgorithms: [], with which no token could ever verify', async () => {
      await etcd.putV3(AUTH, JSON.stringify({ ...auth, signingalgorithms: [] }));
      expect(await refused()).to.contain(`${AUTH_SOURCE} field "signingalgorithms": lists no algorithm, so no token could ever be verified`);
    });

    const STORAGE_SOURCE = 'etcd key /lain/config/registry/storage (v3, etcdctl put):';
    for (const [value, expected] of [
      [{ inmemory: null }, 'field "inmemory.acceptdataloss": required: the inmemory driver keeps every image in memory and loses them all when the registry stops'],
      [{ filesystem: { rootdirectory: '/' } }, 'field "filesystem.rootdirectory": "/" is the root of the filesystem'],
      [{ filesystem: { rootdirectory: '/proc' } }, 'field "filesystem.rootdirectory": "/proc" is /proc, a kernel pseudo-filesystem'],
      [{ filesystem: { rootdirectory: '../../etc' } }, 'field "filesystem.rootdirectory": "../../etc" climbs out of the working directory'],
    ] as const) {
      it(`the storage key ${JSON.stringify(value)}, which would lose or misplace every image`, async () => {
        await etcd.putV3(STORAGE, JSON.stringify(value));
        // The harness's REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY would be a second driver, or replace etcd's root.
        const stderr = await refused({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined });
        expect(stderr).to.contain(`${STORAGE_SOURCE} ${expected}`);
        expect(stderr).to.contain('Fix: ETCDCTL_API=3 etcdctl put /lain/config/registry/storage');
      });
    }

    it('a template whose TLS key is not the key of its certificate, naming the file', async () => {
      const other = await keygen(join(ws.dir, 'other'), { bits: 1024 });
      const template = join(ws.dir, 'tls.yml');
      await writeFile(template, `${await readFile(TEMPLATE, 'utf8')}  tls:\n    certificate: ${certPath}\n    key: ${other.keyPath}\n`);
      const stderr = await refused({ BOOTSTRAP_TEMPLATE: template });
      expect(stderr).to.contain(`template ${template} rendered with etcd: http.tls.key: ${other.keyPath} is not the key of the certificate in ${certPath}`);
    });
  });

  it('a fix command with a shell comment and a single quote pastes as printed: etcd holds the value byte for byte (v3)', async () => {
    const s3 = { region: 'r', bucket: "o'brien", accesskey: 'k', secretkey: 'hush' };
    await etcd.putV3(STORAGE, JSON.stringify({ s3, filesystem: { rootdirectory: '/srv' } }));
    const { code, stderr } = await render([], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined });
    expect(code).to.equal(1);
    const printed = /Fix: (ETCDCTL_API=3 etcdctl put .*)$/m.exec(stderr)?.[1];
    expect(printed, stderr).to.contain('# keeps one driver, s3');
    await runTool('/bin/bash', ['-c', printed ?? ''], { ETCDCTL_ENDPOINTS: etcd.endpoint, PATH: `/usr/bin:${process.env.PATH ?? ''}` });
    // The secret is never printed: the command writes its placeholder, for the SA to fill in.
    expect(await etcd.getV3(STORAGE)).to.equal(JSON.stringify({ s3: { ...s3, secretkey: '<secretkey>' } }));
  });

  it('names the endpoints it tried when etcd is unreachable and there is no last-good config (exit 3)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await render([], { ETCD_ENDPOINTS: dead });
    expect(code).to.equal(3);
    expect(stdout).to.equal('');
    expect(stderr).to.contain(`etcd at ${dead}: could not be read for 1 s`);
    expect(stderr).to.contain(`no last-good config in ${ws.stateDir}`);
    expect(stderr).to.contain('ECONNREFUSED');
  });

  it('shows the last-good config it would start on when etcd is unreachable (exit 0)', async () => {
    await mkdir(ws.stateDir, { recursive: true });
    const template = await readFile(TEMPLATE, 'utf8');
    await writeFile(ws.lastGood, `${template}auth:\n  token:\n    realm: ${auth.realm}\n    service: lain.local\n    issuer: auth server\n    rootcertbundle: ${certPath}\n`);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await render([], { ETCD_ENDPOINTS: `${dead},http://localhost.invalid:4001` });
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain(`realm: ${auth.realm}`);
    expect(stderr).to.contain(`etcd could not be read at ${dead}, http://localhost.invalid:4001`);
    expect(stderr).to.contain('DNS: localhost.invalid does not resolve');
    expect(stderr).to.contain(`would start on the LAST-GOOD config ${ws.lastGood}`);
  });

  it('names the template file when it is not valid YAML', async () => {
    const template = join(ws.dir, 'broken.yml');
    await writeFile(template, 'version: 0.1\nstorage:\n  filesystem: {\n');
    const { code, stderr } = await render([], { BOOTSTRAP_TEMPLATE: template });
    expect(code).to.equal(1);
    expect(stderr).to.contain(`template ${template}: is not valid YAML at line`);
    expect(stderr).to.contain(`Fix: correct ${template}`);
  });

  it('names the template file and line when the registry validator rejects it', async () => {
    const template = join(ws.dir, 'bad-driver.yml');
    await writeFile(template, 'version: 0.1\nstorage:\n  azure:\n    accountname: x\nhttp:\n  addr: :5000\n');
    const { code, stderr } = await render([], { BOOTSTRAP_TEMPLATE: template, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: undefined });
    expect(code).to.equal(1);
    expect(stderr).to.contain(`template ${template}: storage.azure: driver not supported by this registry`);
    expect(stderr).to.contain('(line 3)');
  });

  it('names the template file when it cannot be read', async () => {
    const template = join(ws.dir, 'missing.yml');
    const { code, stderr } = await render([], { BOOTSTRAP_TEMPLATE: template });
    expect(code).to.equal(1);
    expect(stderr).to.contain(`template ${template}: cannot be read (ENOENT)`);
  });

  it('applies REGISTRY_* overrides on top of the rendered config, and names a bad one', async () => {
    const { code, stderr } = await render([], { REGISTRY_LOG_LEVEL: 'loud' });
    expect(code).to.equal(1);
    expect(stderr).to.contain('environment variable REGISTRY_LOG_LEVEL: log.level:');
    expect(stderr).to.contain('Fix: correct or unset REGISTRY_LOG_LEVEL');
  });

  it('ETCD_ENDPOINTS=none renders the template with REGISTRY_* applied and says etcd is not read', async () => {
    await etcd.putV3(AUTH, JSON.stringify(auth));
    const { code, stdout, stderr } = await render([], { ETCD_ENDPOINTS: 'none' });
    expect(code, stderr).to.equal(0);
    expect(stdout).to.not.match(/^auth:/m);
    expect(stdout).to.contain(`addr: 127.0.0.1:${ws.port}`);
    expect(stderr).to.contain('ETCD_ENDPOINTS=none: etcd is not read; the config is the template with REGISTRY_* applied');
    expect(stderr).to.contain('valid; bootstrap would start the registry with auth: none (open registry)');
  });

  it('rejects bad command lines with exit 2', async () => {
    expect((await runBootstrap(['render', '--bogus'], ws.env())).code).to.equal(2);
    expect((await runBootstrap(['--out', 'x'], ws.env())).code).to.equal(2);
    expect((await runBootstrap(['serve'], ws.env())).code).to.equal(2);
  });
});
