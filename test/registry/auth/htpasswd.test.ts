import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHtpasswdController, createHtpasswdLogin } from '../../../registry/src/auth/htpasswd.js';
import { createLogger } from '../../../registry/src/log.js';
import { answeredWhile } from '../../helpers/event-loop.js';
import { call } from '../../helpers/http-call.js';
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

describe('auth: htpasswd under attack', () => {
  let dir: string;
  let registry: TestRegistry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'htpasswd-'));
    const file = join(dir, 'htpasswd');
    const entries = await Promise.all(['trudy', 'victor', 'wendy'].map(async (user) => `${user}:${await bcrypt.hash(`${user}-secret`, 12)}`));
    await writeFile(file, `${entries.join('\n')}\n`);
    registry = await startTestRegistry({ config: { auth: { htpasswd: { realm: 'test realm', path: file } } } });
  });
  after(async () => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const login = (user: string, password: string, localAddress: string) => call(`${registry.url}/v2/`, { basic: [user, password], localAddress });

  it('answers cheap requests by the hundred while eight bcrypt checks at cost 12 are in flight', async () => {
    const guesses = ['victor', 'wendy'].flatMap((user) => [1, 2, 3, 4].map((i) => login(user, `wrong-${i}`, `127.0.0.${40 + i}`)));
    const checked = Promise.all(guesses);
    const answered = await answeredWhile(checked, () => fetch(`${registry.url}/v2/`).then((res) => res.arrayBuffer()));
    expect((await checked).map((a) => a.status)).to.deep.equal(Array(8).fill(401));
    expect(answered).to.be.at.least(50);
  });

  it('answers 429 TOOMANYREQUESTS after five wrong passwords in a row, and still lets the owner in from elsewhere', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await login('trudy', `wrong-${i}`, '127.0.0.5')).status);
    expect(statuses.slice(0, 5)).to.deep.equal(Array(5).fill(401));
    expect(statuses.slice(5)).to.deep.equal(Array(25).fill(429));
    const refused = await login('trudy', 'trudy-secret', '127.0.0.5');
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    expect((refused.body.errors as Array<{ code: string }>)[0]?.code).to.equal('TOOMANYREQUESTS');
    expect((await login('trudy', 'trudy-secret', '127.0.0.6')).status).to.equal(200);
  });

  it('checks an unknown user against a hash of the cost the file uses, so refusing one takes as long as a known one', async () => {
    // Well-formed entries at cost 13 that nobody hashed: the stand-in compare records what it is asked, it does not compare.
    const file = join(dir, 'costly');
    await writeFile(file, ['alice', 'bob'].map((user) => `${user}:$2b$13$${'a'.repeat(53)}\n`).join(''));
    const compared: string[] = [];
    const config = { type: 'htpasswd' as const, realm: 'r', path: file };
    const login = await createHtpasswdLogin(config, createLogger({ level: 'error', formatter: 'json', fields: {} }), async (_password, hash) => {
      compared.push(hash);
      return false;
    });
    const controller = createHtpasswdController(config, login);
    for (const user of ['nobody', 'alice']) {
      const refused = await controller.authorize({ authorization: `Basic ${Buffer.from(`${user}:guess`).toString('base64')}`, remoteAddress: '127.0.0.1' }, []).catch((err: Error) => err.message);
      expect(refused).to.equal('invalid username or password');
    }
    expect(compared.map((hash) => bcrypt.getRounds(hash))).to.deep.equal([13, 13]);
  });

  it('checks no more than the budget of 40 guesses sent at once', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login('wendy', `guess-${i}`, '127.0.0.7')));
    const checked = answers.filter((a) => a.status === 401).length;
    expect(checked).to.be.within(1, 5);
    expect(answers.filter((a) => a.status === 429)).to.have.length(40 - checked);
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
