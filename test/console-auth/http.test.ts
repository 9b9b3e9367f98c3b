import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { libtrustKeyID } from '../../registry/src/auth/keyid.js';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { call, decode, tokenUrl } from '../helpers/http-call.js';

const RULES = [
  { account: 'alice', repository: '*', actions: ['*'] },
  { account: 'bob', repository: 'shared/*', actions: ['pull'] },
  { account: 'anonymous', repository: 'public/*', actions: ['pull'] },
];

/** Polls the console's log until a line satisfies `match` (a reload is asynchronous to the file write). */
async function logLine(consoleAuth: ConsoleAuth, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const line = consoleAuth.logLines().find(match);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no such log line; log:\n${consoleAuth.logText()}`);
    await sleep(50);
  }
}

describe('console-auth token endpoint', function () {
  let ca: ConsoleAuth;
  const realm = (): string => ca.realm;

  before(async function () {
    ca = await startConsoleAuth({
      accounts: { alice: 'alice-secret', bob: 'bob-secret' },
      rules: RULES,
      ratelimit: { failures: 1000, window: '1m' },
    });
  });

  after(async function () {
    await ca.stop();
  });

  describe('GET (docker, skopeo)', function () {
    it('answers Basic credentials with a signed token, its access the asked scopes the rules allow', async function () {
      const before = Math.floor(Date.now() / 1000);
      const res = await call(tokenUrl(realm(), { service: ca.service, account: 'alice', scope: ['repository:foo/bar:pull,push', 'repository:shared/x:pull'] }), { basic: ['alice', 'alice-secret'] });
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body.token).to.be.a('string').and.equal(res.body.access_token);
      expect(res.body.expires_in).to.equal(300);
      expect(Date.parse(String(res.body.issued_at))).to.be.within((before - 1) * 1000, Date.now());
      const { header, payload } = decode(res.body.token);
      const cert = new X509Certificate(await readFile(ca.certPath));
      expect(header.alg).to.equal('RS256');
      expect(header.kid).to.equal(libtrustKeyID(cert.publicKey));
      expect(header.x5c).to.deep.equal([cert.raw.toString('base64')]);
      expect(payload).to.include({ iss: 'auth server', sub: 'alice', aud: ca.service });
      expect(payload.exp! - payload.iat!).to.equal(300);
      expect(payload.nbf).to.equal(payload.iat);
      expect(payload.jti).to.be.a('string').with.length.greaterThan(8);
      expect(payload.access).to.deep.equal([
        { type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] },
        { type: 'repository', name: 'shared/x', actions: ['pull'] },
      ]);
    });

    it('never grants more than asked, and answers a scope without rights with empty actions', async function () {
      const res = await call(tokenUrl(realm(), { service: ca.service, scope: ['repository:shared/x:pull,push', 'repository:private/y:pull'] }), { basic: ['bob', 'bob-secret'] });
      expect(res.status).to.equal(200);
      expect(decode(res.body.token).payload.access).to.deep.equal([
        { type: 'repository', name: 'shared/x', actions: ['pull'] },
        { type: 'repository', name: 'private/y', actions: [] },
      ]);
    });

    it('gives anonymous callers what anonymous rules allow, and a request without scope an empty access', async function () {
      const anonymous = await call(tokenUrl(realm(), { service: ca.service, scope: 'repository:public/base:pull,push' }));
      expect(anonymous.status).to.equal(200);
      expect(decode(anonymous.body.token).payload).to.deep.include({ sub: '', access: [{ type: 'repository', name: 'public/base', actions: ['pull'] }] });
      const login = await call(tokenUrl(realm(), { service: ca.service, account: 'bob' }), { basic: ['bob', 'bob-secret'] });
      expect(login.status).to.equal(200);
      expect(decode(login.body.token).payload.access).to.deep.equal([]);
      // Requests share nothing: the LAIN console reused the previous request's access for a request without scope.
      const next = await call(tokenUrl(realm(), { service: ca.service }));
      expect(decode(next.body.token).payload.access).to.deep.equal([]);
    });

    it('answers a space-separated scope list in one parameter', async function () {
      const res = await call(tokenUrl(realm(), { service: ca.service, scope: 'repository:a/b:pull repository:c/d:push' }), { basic: ['alice', 'alice-secret'] });
      expect(decode(res.body.token).payload.access?.map((a) => a.name)).to.deep.equal(['a/b', 'c/d']);
    });

    it('refuses an unknown user and a wrong password with 401, a Basic challenge and a readable body', async function () {
      for (const basic of [['mallory', 'x'], ['alice', 'wrong']] as Array<[string, string]>) {
        const res = await call(tokenUrl(realm(), { service: ca.service, scope: 'repository:foo/bar:pull' }), { basic });
        expect(res.status).to.equal(401);
        expect(res.headers['www-authenticate']).to.equal('Basic realm="console-auth test"');
        expect(res.body.errors).to.deep.equal([{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }]);
        expect(res.body).not.to.have.property('token');
      }
    });

    it('answers malformed requests with 400 and a message, never 500', async function () {
      const cases: Array<[string, Record<string, string | string[]>, [string, string] | undefined, RegExp]> = [
        ['bad scope', { service: ca.service, scope: 'repository:foo' }, undefined, /scope "repository:foo"/],
        ['uppercase name', { service: ca.service, scope: 'repository:Foo/Bar:pull' }, undefined, /not a repository name/],
        ['bad action', { service: ca.service, scope: 'repository:foo:pull;push' }, undefined, /actions/],
        ['other service', { service: 'elsewhere', scope: 'repository:foo:pull' }, undefined, /service "elsewhere"/],
        ['service twice', { service: [ca.service, ca.service] }, undefined, /service is given 2 times/],
        ['account mismatch', { service: ca.service, account: 'bob' }, ['alice', 'alice-secret'], /does not match/],
        ['too many scopes', { service: ca.service, scope: Array.from({ length: 101 }, (_, i) => `repository:r${i}:pull`) }, undefined, /at most 100 scopes/],
      ];
      for (const [what, params, basic, message] of cases) {
        const res = await call(tokenUrl(realm(), params), { basic });
        expect(res.status, what).to.equal(400);
        expect(String((res.body.errors as Array<{ message: string }>)[0]!.message), what).to.match(message);
      }
      const garbage = await call(tokenUrl(realm(), { service: ca.service }), { headers: { Authorization: 'Basic !!!' } });
      expect(garbage.status).to.equal(400);
      const bearer = await call(tokenUrl(realm(), { service: ca.service }), { headers: { Authorization: 'Bearer abc' } });
      expect(bearer.status).to.equal(400);
      const method = await call(realm(), { method: 'PUT' });
      expect(method.status).to.equal(405);
      expect(method.headers.allow).to.equal('GET, POST');
    });

    it('defaults the service to token.service and serves the path without its trailing slash', async function () {
      const res = await call(`${ca.url}/api/v1/authorize/registry?scope=repository:foo:pull`, { basic: ['alice', 'alice-secret'] });
      expect(res.status).to.equal(200);
      expect(decode(res.body.token).payload.aud).to.equal(ca.service);
    });
  });

  describe('POST (OAuth2 form)', function () {
    it('grant_type=password with access_type=offline returns a refresh token that later buys access tokens', async function () {
      const login = await call(realm(), {
        form: { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'docker', access_type: 'offline', service: ca.service, scope: 'repository:foo/bar:pull' },
      });
      expect(login.status).to.equal(200);
      expect(login.body).to.include.keys('token', 'access_token', 'expires_in', 'issued_at', 'refresh_token');
      const refreshToken = String(login.body.refresh_token);
      const refreshed = await call(realm(), {
        form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'docker', service: ca.service, scope: ['repository:foo/bar:pull,push', 'repository:x/y:pull'] },
      });
      expect(refreshed.status).to.equal(200);
      expect(refreshed.body).not.to.have.property('refresh_token');
      expect(decode(refreshed.body.access_token).payload).to.deep.include({
        sub: 'alice',
        access: [
          { type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] },
          { type: 'repository', name: 'x/y', actions: ['pull'] },
        ],
      });
    });

    it('gives no refresh token without access_type=offline, and GET gives one for offline_token=true', async function () {
      const online = await call(realm(), { form: { grant_type: 'password', username: 'bob', password: 'bob-secret', client_id: 'test', service: ca.service } });
      expect(online.status).to.equal(200);
      expect(online.body).not.to.have.property('refresh_token');
      const get = await call(tokenUrl(realm(), { service: ca.service, offline_token: 'true' }), { basic: ['bob', 'bob-secret'] });
      expect(get.body.refresh_token).to.be.a('string');
    });

    it('refuses forged, tampered and access tokens as refresh tokens with 401', async function () {
      const access = await call(tokenUrl(realm(), { service: ca.service }), { basic: ['alice', 'alice-secret'] });
      const login = await call(realm(), { form: { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 't', access_type: 'offline' } });
      const [h, p, s] = String(login.body.refresh_token).split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url')}.${s}`;
      for (const token of [String(access.body.token), tampered, 'garbage']) {
        const res = await call(realm(), { form: { grant_type: 'refresh_token', refresh_token: token, client_id: 't' } });
        expect(res.status).to.equal(401);
        expect(res.body.error).to.equal('invalid_grant');
      }
    });

    it('answers a wrong password with 401 and bad forms with 400', async function () {
      const wrong = await call(realm(), { form: { grant_type: 'password', username: 'alice', password: 'nope', client_id: 't' } });
      expect(wrong.status).to.equal(401);
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ grant_type: 'password', username: 'alice', password: 'alice-secret' }, /client_id is required/],
        [{ grant_type: 'client_credentials', client_id: 't' }, /grant_type must be password or refresh_token/],
        [{ grant_type: 'password', client_id: 't', username: 'alice' }, /needs username and password/],
        [{ grant_type: 'refresh_token', client_id: 't' }, /needs refresh_token/],
        [{ grant_type: 'password', client_id: 't', username: 'alice', password: 'alice-secret', scope: 'nonsense' }, /scope "nonsense"/],
      ];
      for (const [form, message] of cases) {
        const res = await call(realm(), { form });
        expect(res.status, JSON.stringify(form)).to.equal(400);
        expect(String(res.body.error_description)).to.match(message);
      }
      const json = await call(realm(), { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      expect(json.status).to.equal(400);
    });
  });

  describe('audit log', function () {
    it('writes one line per grant and refusal with account, address, scope asked and granted, and no secret', async function () {
      const granted = await call(tokenUrl(realm(), { service: ca.service, scope: ['repository:shared/audit:pull,push'] }), { basic: ['bob', 'bob-secret'] });
      await call(tokenUrl(realm(), { service: ca.service, scope: 'repository:audit/refused:pull' }), { basic: ['bob', 'bad-password-123'] });
      const offline = await call(realm(), { form: { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'audit', access_type: 'offline' } });
      const lines = ca.logLines().filter((l) => l.audit !== undefined);
      const grant = lines.find((l) => l.audit === 'grant' && JSON.stringify(l.asked) === '["repository:shared/audit:pull,push"]');
      expect(grant).to.deep.include({ account: 'bob', address: '127.0.0.1', granted: ['repository:shared/audit:pull'] });
      const refusal = lines.find((l) => l.audit === 'refusal' && JSON.stringify(l.asked) === '["repository:audit/refused:pull"]');
      expect(refusal).to.deep.include({ account: 'bob', address: '127.0.0.1', status: 401, reason: 'incorrect username or password' });
      const text = ca.logText();
      for (const secret of ['bob-secret', 'bad-password-123', 'alice-secret', String(granted.body.token), String(offline.body.token), String(offline.body.refresh_token)]) {
        expect(text).not.to.include(secret);
      }
      for (const credentials of ['bob:bob-secret', 'bob:bad-password-123']) expect(text).not.to.include(Buffer.from(credentials).toString('base64'));
    });
  });

  describe('reload', function () {
    it('applies a changed console.yml, refuses a bad one keeping the old policy, and drops no request meanwhile', async function () {
      const asked = { service: ca.service, scope: 'repository:team/app:pull,push' };
      const before = await call(tokenUrl(realm(), asked), { basic: ['bob', 'bob-secret'] });
      expect(decode(before.body.token).payload.access![0]!.actions).to.deep.equal([]);

      // Requests keep flowing while the file changes.
      let stop = false;
      const statuses: number[] = [];
      const traffic = (async () => {
        while (!stop) statuses.push((await call(tokenUrl(realm(), asked), { basic: ['alice', 'alice-secret'] })).status);
      })();

      const reloads = ca.logLines().filter((l) => l.msg === 'console.yml reloaded').length;
      await ca.writeConfig({ rules: [{ account: 'bob', repository: 'team/*', actions: ['pull', 'push'] }, ...RULES] });
      await logLine(ca, (l) => l.msg === 'console.yml reloaded' && ca.logLines().filter((x) => x.msg === 'console.yml reloaded').length > reloads);
      const after = await call(tokenUrl(realm(), asked), { basic: ['bob', 'bob-secret'] });
      expect(decode(after.body.token).payload.access![0]!.actions).to.deep.equal(['pull', 'push']);

      await writeFile(ca.configPath, 'http: [this is not\n');
      const refused = await logLine(ca, (l) => l.msg === 'console.yml refused; the previous configuration stays in force');
      expect(String(refused.error)).to.include('not valid YAML').and.include(ca.configPath);
      const still = await call(tokenUrl(realm(), asked), { basic: ['bob', 'bob-secret'] });
      expect(decode(still.body.token).payload.access![0]!.actions).to.deep.equal(['pull', 'push']);

      // A file that parses but names a missing key file is refused too: the whole new state loads or nothing does.
      await writeFile(ca.configPath, (await readFile(ca.configPath, 'utf8')).replace(/^http: \[this is not$/m, 'http: {addr: "127.0.0.1:0"}\ntoken: {issuer: x, service: y, key: /nonexistent.key, certificate: /nonexistent.pem}'));
      expect(await ca.watcher.reload()).to.equal(false);
      expect(ca.console.config.token.service).to.equal(ca.service);

      stop = true;
      await traffic;
      expect(statuses.length).to.be.greaterThan(0);
      expect(statuses.every((s) => s === 200)).to.equal(true);
      await ca.writeConfig({ rules: RULES });
      expect(await ca.watcher.reload()).to.equal(true);
    });

    it('revokes refresh tokens when the account\'s password changes or the account goes', async function () {
      const login = await call(realm(), { form: { grant_type: 'password', username: 'bob', password: 'bob-secret', client_id: 't', access_type: 'offline' } });
      const refresh = { grant_type: 'refresh_token', refresh_token: String(login.body.refresh_token), client_id: 't' };
      expect((await call(realm(), { form: refresh })).status).to.equal(200);
      await ca.writeConfig({ accounts: { alice: 'alice-secret', bob: 'new-bob-secret' } });
      expect(await ca.watcher.reload()).to.equal(true);
      expect((await call(realm(), { form: refresh })).status).to.equal(401);
      await ca.writeConfig({ accounts: { alice: 'alice-secret', bob: 'bob-secret' } });
      expect(await ca.watcher.reload()).to.equal(true);
    });
  });
});
