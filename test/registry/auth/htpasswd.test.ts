import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('auth: htpasswd', () => {
  let dir: string;
  let file: string;
  let registry: TestRegistry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'htpasswd-'));
    file = join(dir, 'htpasswd');
    await writeFile(file, `alice:${await bcrypt.hash('wonderland', 4)}\n# comment\nmd5user:$apr1$abc$def\n`);
    registry = await startTestRegistry({ config: { auth: { htpasswd: { realm: 'test realm', path: file } } } });
  });
  after(async () => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('challenges a request without credentials with Basic realm', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal('Basic realm="test realm"');
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).to.equal('UNAUTHORIZED');
  });

  it('accepts the right password and refuses a wrong one, an unknown user and a non-bcrypt entry', async () => {
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('alice', 'wonderland') } })).status).to.equal(200);
    for (const [user, password] of [['alice', 'wrong'], ['alice', ''], ['bob', 'wonderland'], ['md5user', 'x'], ['alice:wonderland', '']]) {
      const res = await fetch(`${registry.url}/v2/`, { headers: { authorization: basic(user as string, password as string) } });
      expect(res.status, `${user}:${password}`).to.equal(401);
    }
  });

  it('refuses malformed Authorization headers with 401, never 500', async () => {
    for (const header of ['Basic', 'Basic !!!', 'Bearer abc', 'Basic ' + Buffer.from('nocolon').toString('base64'), 'basic']) {
      const res = await fetch(`${registry.url}/v2/`, { headers: { authorization: header } });
      expect(res.status, header).to.equal(401);
    }
  });

  it('warns about entries it ignores, naming the file and line', () => {
    const warning = registry.logs.find((line) => String(line.msg).includes('only bcrypt'));
    expect(warning?.path).to.equal(file);
    expect(warning?.line).to.equal(3);
  });

  it('picks up a changed file without a restart', async () => {
    await writeFile(file, `carol:${await bcrypt.hash('new', 4)}\n`);
    // The file is checked at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('carol', 'new') } })).status).to.equal(200);
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('alice', 'wonderland') } })).status).to.equal(401);
  });

  it('a missing htpasswd file stops the start with a message naming the file', async () => {
    let message = '';
    await startTestRegistry({ config: { auth: { htpasswd: { realm: 'r', path: join(dir, 'absent') } } } }).catch((err: Error) => {
      message = err.message;
    });
    expect(message).to.contain('auth.htpasswd.path');
    expect(message).to.contain(join(dir, 'absent'));
  });
});

describe('auth: silly', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ config: { auth: { silly: { realm: 'https://auth.example/token', service: 'reg' } } } });
  });
  after(() => registry.stop());

  it('challenges with the scope a route needs, and lets any Authorization through', async () => {
    const res = await fetch(`${registry.url}/v2/app/tags/list`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="https://auth.example/token",service="reg",scope="repository:app:pull"');
    const ok = await fetch(`${registry.url}/v2/`, { headers: { authorization: 'anything' } });
    expect(ok.status).to.equal(200);
  });
});
