import { expect } from 'chai';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { keygen, type KeygenResult } from '../../console-auth/src/keys.js';
import { Challenge, type Access, type AccessController } from '../../registry/src/auth/controller.js';
import { createTokenController } from '../../registry/src/auth/token.js';
import { createLogger } from '../../registry/src/log.js';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { call, decode, tokenUrl } from '../helpers/http-call.js';

const logger = createLogger({ level: 'error', formatter: 'json', fields: {} });
const PUSH: Access[] = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];

async function verifier(ca: ConsoleAuth, bundle: string): Promise<AccessController> {
  return createTokenController({ type: 'token', realm: ca.realm, service: ca.service, issuer: ca.issuer, rootcertbundle: bundle, autoredirect: false }, logger);
}

async function refused(controller: AccessController, token: string, needed: Access[]): Promise<Challenge> {
  try {
    await controller.authorize({ authorization: `Bearer ${token}` }, needed);
  } catch (err) {
    expect(err).to.be.instanceOf(Challenge);
    return err as Challenge;
  }
  throw new Error('the registry accepted the token');
}

/** Re-signs a console token's claims with its key, keeping only the kid header: the path distribution 2.8 kid-only servers use. */
async function kidOnly(token: string, keyPath: string): Promise<string> {
  const { header, payload } = decode(token);
  const key = createPrivateKey(await readFile(keyPath));
  return jwt.sign(payload, key, { algorithm: 'RS256', header: { alg: 'RS256', kid: header.kid } });
}

describe('console-auth tokens verified by the registry (auth.token)', function () {
  let dir: string;
  let oldKeys: KeygenResult;
  let newKeys: KeygenResult;
  let ca: ConsoleAuth;

  const token = async (user: string, password: string, scope: string): Promise<string> => {
    const res = await call(tokenUrl(ca.realm, { service: ca.service, scope }), { basic: [user, password] });
    expect(res.status).to.equal(200);
    return String(res.body.token);
  };

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'console-registry-'));
    oldKeys = await keygen(join(dir, 'old'), { bits: 2048 });
    newKeys = await keygen(join(dir, 'new'), { bits: 2048 });
    ca = await startConsoleAuth({
      keyPair: oldKeys,
      accounts: { alice: 'alice-secret', bob: 'bob-secret' },
      rules: [
        { account: 'alice', repository: '*', actions: ['*'] },
        { account: 'bob', repository: '*', actions: ['pull'] },
      ],
    });
  });

  after(async function () {
    await ca.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a console token through its x5c header and through its libtrust kid alone', async function () {
    const registry = await verifier(ca, oldKeys.certPath);
    const issued = await token('alice', 'alice-secret', 'repository:team/app:pull,push');
    expect(await registry.authorize({ authorization: `Bearer ${issued}` }, PUSH)).to.deep.equal({ subject: 'alice' });
    const viaKid = await kidOnly(issued, oldKeys.keyPath);
    expect(decode(viaKid).header).not.to.have.property('x5c');
    expect(await registry.authorize({ authorization: `Bearer ${viaKid}` }, PUSH)).to.deep.equal({ subject: 'alice' });
  });

  it('refuses a pull-only user\'s token for a push with insufficient_scope', async function () {
    const registry = await verifier(ca, oldKeys.certPath);
    const issued = await token('bob', 'bob-secret', 'repository:team/app:pull,push');
    await registry.authorize({ authorization: `Bearer ${issued}` }, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const challenge = await refused(registry, issued, PUSH);
    expect(challenge.header).to.equal(`Bearer realm="${ca.realm}",service="${ca.service}",scope="repository:team/app:pull,push",error="insufficient_scope"`);
  });

  it('refuses a refresh token used as a bearer token, even for GET /v2/', async function () {
    const registry = await verifier(ca, oldKeys.certPath);
    const login = await call(ca.realm, { form: { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 't', access_type: 'offline' } });
    const challenge = await refused(registry, String(login.body.refresh_token), []);
    expect(challenge.header).to.match(/error="invalid_token"$/);
  });

  it('rotates keys: with old and new certificates in the bundle, tokens of both keys verify', async function () {
    const bundle = join(dir, 'bundle.pem');
    await writeFile(bundle, `${await readFile(oldKeys.certPath, 'utf8')}${await readFile(newKeys.certPath, 'utf8')}`);
    const registry = await verifier(ca, bundle);
    const oldToken = await token('alice', 'alice-secret', 'repository:team/app:pull,push');

    await ca.writeConfig({ keyPair: newKeys });
    expect(await ca.watcher.reload()).to.equal(true);
    const newToken = await token('alice', 'alice-secret', 'repository:team/app:pull,push');
    expect(decode(newToken).header.kid).not.to.equal(decode(oldToken).header.kid);

    for (const t of [oldToken, newToken, await kidOnly(oldToken, oldKeys.keyPath), await kidOnly(newToken, newKeys.keyPath)]) {
      expect(await registry.authorize({ authorization: `Bearer ${t}` }, PUSH)).to.deep.equal({ subject: 'alice' });
    }
    // Once the old certificate leaves the bundle, the old key's tokens stop working.
    const newOnly = await verifier(ca, newKeys.certPath);
    await newOnly.authorize({ authorization: `Bearer ${newToken}` }, PUSH);
    await refused(newOnly, oldToken, PUSH);
    await ca.writeConfig({ keyPair: oldKeys });
    expect(await ca.watcher.reload()).to.equal(true);
  });
});
