import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { keygen } from '../../console-auth/src/keys.js';
import { libtrustKeyID } from '../../registry/src/auth/keyid.js';
import { startNodeProcess, type ManagedProcess } from '../helpers/processes.js';
import { call, decode, tokenUrl } from '../helpers/http-call.js';

const CLI = fileURLToPath(new URL('../../console-auth/src/cli.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('console-auth commands', function () {
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'console-cli-'));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('keygen writes a private key and a self-signed certificate that node:crypto verifies', async function () {
    const out = join(dir, 'keys');
    const result = await run(['keygen', '--out', out, '--bits', '2048']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(`${join(out, 'server.key')}\n${join(out, 'server.pem')}\n`);
    const key = createPrivateKey(await readFile(join(out, 'server.key')));
    const cert = new X509Certificate(await readFile(join(out, 'server.pem')));
    expect(key.asymmetricKeyDetails?.modulusLength).to.equal(2048);
    expect(cert.checkPrivateKey(key)).to.equal(true);
    expect(cert.verify(cert.publicKey)).to.equal(true);
    expect(cert.checkIssued(cert)).to.equal(true);
    expect(Date.parse(cert.validFrom)).to.be.at.most(Date.now());
    expect(Date.parse(cert.validTo)).to.be.greaterThan(Date.now() + 9 * 365 * 86400_000);
    const data = Buffer.from('token payload');
    expect(verify('sha256', data, cert.publicKey, sign('sha256', data, key))).to.equal(true);
    expect((await stat(join(out, 'server.key'))).mode & 0o777).to.equal(0o600);

    const again = await run(['keygen', '--out', out, '--bits', '2048']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('already exists');
    expect(new X509Certificate(await readFile(join(out, 'server.pem'))).raw.equals(cert.raw)).to.equal(true);
  });

  it('hash-password prints a bcrypt hash of the stdin line, and refuses an empty password', async function () {
    const result = await run(['hash-password', '--cost', '4'], 'correct horse battery\n');
    expect(result.code, result.stderr).to.equal(0);
    const hash = result.stdout.trim();
    expect(hash).to.match(/^\$2b\$04\$/);
    expect(await bcrypt.compare('correct horse battery', hash)).to.equal(true);
    expect(await bcrypt.compare('correct horse battery\n', hash)).to.equal(false);
    const empty = await run(['hash-password'], '\n');
    expect(empty.code).to.equal(2);
    expect(empty.stderr).to.include('empty password');
  });

  it('serve refuses a bad console.yml at start, listing the problems, without a stack trace', async function () {
    const config = join(dir, 'bad.yml');
    await writeFile(config, 'http: {addr: ":0"}\ntoken: {issuer: x, key: k, certificate: c}\nrules: [{account: a, repository: "*", actions: [write]}]\n');
    const result = await run(['serve', config]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('token.service is required').and.include('rules[0].actions');
    expect(result.stderr).not.to.match(/\n\s+at /);
  });

  describe('serve', function () {
    let proc: ManagedProcess | undefined;

    after(async function () {
      await proc?.stop();
    });

    it('serves tokens and on SIGHUP reloads, picking up a new signing key at the same paths', async function () {
      const served = join(dir, 'served');
      const first = await keygen(join(served, 'keys'), { bits: 2048 });
      const second = await keygen(join(served, 'next'), { bits: 2048 });
      const config = join(served, 'console.yml');
      const hash = await bcrypt.hash('alice-secret', 4);
      await writeFile(
        config,
        stringify({
          http: { addr: '127.0.0.1:0' },
          token: { issuer: 'auth server', service: 'registry.test', key: 'keys/server.key', certificate: 'keys/server.pem' },
          accounts: { alice: { password: hash } },
          rules: [{ account: 'alice', repository: '*', actions: ['*'] }],
        }),
      );
      let url = '';
      proc = await startNodeProcess(CLI, ['serve', config], {}, async (p) => {
        const match = /"url":"([^"]+)","config"/.exec(await p.readLog());
        url = match?.[1] ?? '';
        return url !== '';
      }, { name: 'console-auth' });
      const realm = `${url}/api/v1/authorize/registry/`;
      const kid = async (): Promise<string | undefined> => {
        const res = await call(tokenUrl(realm, { scope: 'repository:a/b:pull' }), { basic: ['alice', 'alice-secret'] });
        expect(res.status).to.equal(200);
        return decode(res.body.token).header.kid;
      };
      const firstKid = libtrustKeyID(createPublicKey(await readFile(first.keyPath)));
      expect(await kid()).to.equal(firstKid);

      // Only the key files change, which the console.yml watcher does not see: the reload comes from SIGHUP.
      await copyFile(second.keyPath, first.keyPath);
      await copyFile(second.certPath, first.certPath);
      process.kill(proc.pid, 'SIGHUP');
      const deadline = Date.now() + 20_000;
      while (!(await proc.readLog()).includes('console.yml reloaded')) {
        if (Date.now() > deadline) throw new Error(`no reload after SIGHUP; log:\n${await proc.readLog()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await kid()).to.equal(libtrustKeyID(createPublicKey(await readFile(second.keyPath))));
      await proc.stop();
      expect((await proc.exited).code).to.equal(0);
    });
  });
});
