// Interop with the reference verifier: Debian's docker-registry (distribution 2.8.2) trusting console-auth's
// server.pem accepts console-auth tokens, and its challenges match the ones our registry's controller writes.
import { expect } from 'chai';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { Challenge, type Access, type AccessController } from '../../registry/src/auth/controller.js';
import { jwkThumbprint } from '../../registry/src/auth/keyid.js';
import { createTokenController } from '../../registry/src/auth/token.js';
import { createLogger } from '../../registry/src/log.js';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { startDistribution, type Distribution } from '../helpers/processes.js';
import { call, decode, tokenUrl } from '../helpers/http-call.js';

const MISSING_BLOB = `sha256:${'0'.repeat(64)}`;

/** A challenge with each scope's actions sorted: distribution lists them in Go map order, which varies. */
function normalize(header: string | null | undefined): string {
  return String(header).replace(/scope="([^"]*)"/, (_, scopes: string) =>
    `scope="${scopes
      .split(' ')
      .map((scope) => {
        const i = scope.lastIndexOf(':');
        return `${scope.slice(0, i)}:${scope.slice(i + 1).split(',').sort().join(',')}`;
      })
      .join(' ')}"`,
  );
}

describe('console-auth tokens on distribution 2.8 (docker-registry)', function () {
  let ca: ConsoleAuth;
  let registry: Distribution;
  let rootDir: string;
  let ours: AccessController;

  const token = async (params: Record<string, string>, basic?: [string, string]): Promise<string> => {
    const res = await call(tokenUrl(ca.realm, { service: ca.service, ...params }), { basic });
    expect(res.status).to.equal(200);
    return String(res.body.token);
  };

  const request = (method: string, path: string, bearer?: string): Promise<Response> =>
    fetch(`${registry.url}${path}`, { method, headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });

  const ourChallenge = async (authorization: string | undefined, needed: Access[]): Promise<string> => {
    try {
      await ours.authorize({ authorization }, needed);
    } catch (err) {
      if (err instanceof Challenge) return err.header;
      throw err;
    }
    throw new Error('our controller accepted the request');
  };

  before(async function () {
    ca = await startConsoleAuth({
      accounts: { alice: 'alice-secret', bob: 'bob-secret' },
      rules: [
        { account: 'alice', repository: '*', actions: ['*'] },
        { account: 'alice', registry: 'catalog', actions: ['*'] },
        { account: 'bob', repository: '*', actions: ['pull'] },
        { account: 'anonymous', repository: 'public/*', actions: ['pull'] },
      ],
    });
    rootDir = await mkdtemp(join(tmpdir(), 'distribution-auth-'));
    const auth = { realm: ca.realm, service: ca.service, issuer: ca.issuer, rootcertbundle: ca.certPath };
    registry = await startDistribution({ rootDir, configExtra: { auth: { token: auth } } });
    ours = await createTokenController({ type: 'token', ...auth, autoredirect: false }, createLogger({ level: 'error', formatter: 'json', fields: {} }));
  });

  after(async function () {
    await registry?.stop();
    await ca?.stop();
    await rm(rootDir, { recursive: true, force: true });
  });

  it('accepts a console token (kid + x5c) for GET /v2/, a blob HEAD (404, not 401) and an upload (202)', async function () {
    const issued = await token({ account: 'alice', scope: 'repository:team/app:pull,push' }, ['alice', 'alice-secret']);
    expect((await request('GET', '/v2/', issued)).status).to.equal(200);
    expect((await request('HEAD', `/v2/team/app/blobs/${MISSING_BLOB}`, issued)).status).to.equal(404);
    const upload = await request('POST', '/v2/team/app/blobs/uploads/', issued);
    expect(upload.status).to.equal(202);
    await upload.body?.cancel();
  });

  it('accepts the same claims signed with only the libtrust kid header (distribution 2.8\'s kid lookup)', async function () {
    const issued = await token({ scope: 'repository:team/app:pull' }, ['alice', 'alice-secret']);
    const { header, payload } = decode(issued);
    const key = createPrivateKey(await readFile(ca.keyPath));
    const kidOnly = jwt.sign(payload, key, { algorithm: 'RS256', header: { alg: 'RS256', kid: header.kid } });
    expect((await request('GET', '/v2/', kidOnly)).status).to.equal(200);
    expect((await request('HEAD', `/v2/team/app/blobs/${MISSING_BLOB}`, kidOnly)).status).to.equal(404);
    // The control: 2.8 looks kids up in libtrust form only, so the RFC 7638 form of the same key is refused there.
    const thumbprintKid = jwt.sign(payload, key, { algorithm: 'RS256', header: { alg: 'RS256', kid: jwkThumbprint(key) } });
    expect((await request('GET', '/v2/', thumbprintKid)).status).to.equal(401);
  });

  it('accepts an anonymous token where an anonymous rule allows pull, and the catalog with registry:catalog:*', async function () {
    const anonymous = await token({ scope: 'repository:public/base:pull' });
    expect((await request('HEAD', `/v2/public/base/blobs/${MISSING_BLOB}`, anonymous)).status).to.equal(404);
    const catalog = await token({ scope: 'registry:catalog:*' }, ['alice', 'alice-secret']);
    expect((await request('GET', '/v2/_catalog', catalog)).status).to.equal(200);
  });

  it('refuses a pull-only user\'s push with the same insufficient_scope challenge our registry writes', async function () {
    const pullOnly = await token({ scope: 'repository:team/app:pull,push' }, ['bob', 'bob-secret']);
    expect(decode(pullOnly).payload.access).to.deep.equal([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expect((await request('HEAD', `/v2/team/app/blobs/${MISSING_BLOB}`, pullOnly)).status).to.equal(404);
    const res = await request('POST', '/v2/team/app/blobs/uploads/', pullOnly);
    expect(res.status).to.equal(401);
    const needed: Access[] = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];
    expect(normalize(res.headers.get('www-authenticate'))).to.equal(normalize(await ourChallenge(`Bearer ${pullOnly}`, needed)));
    expect(res.headers.get('www-authenticate')).to.match(/,error="insufficient_scope"$/);
  });

  it('writes the same challenges as our registry with no token and with a tampered one', async function () {
    const issued = await token({ scope: 'repository:team/app:pull' }, ['alice', 'alice-secret']);
    const [h, , s] = issued.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...decode(issued).payload, sub: 'root' })).toString('base64url')}.${s}`;
    const cases: Array<[string, string, string | undefined, Access[]]> = [
      ['GET', '/v2/', undefined, []],
      ['HEAD', `/v2/team/app/blobs/${MISSING_BLOB}`, undefined, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]],
      ['POST', '/v2/team/app/blobs/uploads/', undefined, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]],
      ['GET', '/v2/_catalog', undefined, [{ type: 'registry', name: 'catalog', actions: ['*'] }]],
      ['HEAD', `/v2/team/app/blobs/${MISSING_BLOB}`, tampered, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]],
      ['GET', '/v2/', 'not-a-jwt', []],
    ];
    for (const [method, path, bearer, needed] of cases) {
      const res = await request(method, path, bearer);
      await res.body?.cancel();
      expect(res.status, `${method} ${path}`).to.equal(401);
      expect(normalize(res.headers.get('www-authenticate')), `${method} ${path}`).to.equal(normalize(await ourChallenge(bearer && `Bearer ${bearer}`, needed)));
    }
  });
});
