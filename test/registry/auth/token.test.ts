import { expect } from 'chai';
import { createHmac, createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { issueCertificate } from '../../../console-auth/src/keys.js';
import { Challenge, type Access, type AccessController } from '../../../registry/src/auth/controller.js';
import { jwkThumbprint, libtrustKeyID } from '../../../registry/src/auth/keyid.js';
import { createTokenController } from '../../../registry/src/auth/token.js';
import type { TokenAuth } from '../../../registry/src/config/types.js';
import { createLogger } from '../../../registry/src/log.js';
import { runTool } from '../../helpers/tools.js';

const REALM = 'https://console.example/api/v1/authorize/registry/';
const SERVICE = 'registry.example';
const ISSUER = 'auth server';
const logger = createLogger({ level: 'error', formatter: 'json', fields: {} });

interface Signer {
  key: KeyObject;
  cert: X509Certificate;
  der: string;
}

function rsaSigner(opts: { issuer?: Signer; ca?: boolean; notBefore?: Date; notAfter?: Date } = {}): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = issueCertificate({
    commonName: 'test signer',
    publicKey,
    signingKey: opts.issuer?.key ?? privateKey,
    issuer: opts.issuer?.cert,
    ca: opts.ca,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  });
  const cert = new X509Certificate(pem);
  return { key: privateKey, cert, der: cert.raw.toString('base64') };
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Valid claims with `extra` applied; an undefined value removes the claim. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'alice',
    aud: SERVICE,
    exp: now() + 300,
    nbf: now(),
    iat: now(),
    jti: 'test',
    access: [{ type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] }],
    ...extra,
  };
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
  return all;
}

function sign(key: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown> = claims(), algorithm: jwt.Algorithm = 'RS256'): string {
  return jwt.sign(payload, key, { algorithm, header: { alg: algorithm, ...header } });
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const PULL_PUSH: Access[] = [{ type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] }];
const CHALLENGE = `Bearer realm="${REALM}",service="${SERVICE}",scope="repository:foo/bar:pull,push"`;

async function refusal(controller: AccessController, authorization: string | undefined, needed: Access[] = PULL_PUSH): Promise<Challenge> {
  try {
    await controller.authorize({ authorization, remoteAddress: '127.0.0.1' }, needed);
  } catch (err) {
    expect(err).to.be.instanceOf(Challenge);
    return err as Challenge;
  }
  throw new Error('authorize accepted a request it should refuse');
}

describe('registry token auth (auth.token)', function () {
  let dir: string;
  let old: Signer;
  let current: Signer;
  let stranger: Signer;
  let root: Signer;
  let intermediate: Signer;
  let leaf: Signer;
  let expired: Signer;
  let ecKey: KeyObject;
  let ecCertDer: string;
  let es384: KeyObject;
  let es512: KeyObject;
  let controller: AccessController;
  let config: TokenAuth;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'token-test-'));
    old = rsaSigner();
    current = rsaSigner();
    stranger = rsaSigner();
    root = rsaSigner({ ca: true });
    intermediate = rsaSigner({ issuer: root, ca: true });
    leaf = rsaSigner({ issuer: intermediate, ca: false });
    expired = rsaSigner({ notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });

    // node-forge writes RSA certificates only; the ECDSA certificate comes from openssl.
    await runTool('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=ec signer',
      '-keyout', join(dir, 'ec.key'), '-out', join(dir, 'ec.pem'),
    ]);
    ecKey = createPrivateKey(await readFile(join(dir, 'ec.key')));
    const ecCert = new X509Certificate(await readFile(join(dir, 'ec.pem')));
    ecCertDer = ecCert.raw.toString('base64');

    es384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    es512 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
    const jwks = { keys: [{ ...es384.export({ format: 'jwk' }), d: undefined, kid: 'es384-key' }, { ...es512.export({ format: 'jwk' }), d: undefined }] };
    await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks));

    const bundle = [old, current, root, expired].map((s) => s.cert.toString()).join('\n') + ecCert.toString();
    await writeFile(join(dir, 'bundle.pem'), bundle);
    config = {
      type: 'token',
      realm: REALM,
      service: SERVICE,
      issuer: ISSUER,
      rootcertbundle: join(dir, 'bundle.pem'),
      autoredirect: false,
      jwks: join(dir, 'jwks.json'),
    };
    controller = await createTokenController(config, logger);
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  const accepts = async (token: string, needed: Access[] = PULL_PUSH): Promise<void> => {
    const grant = await controller.authorize({ authorization: `Bearer ${token}` }, needed);
    expect(grant.subject).to.equal('alice');
  };

  describe('accepts tokens that distribution 2.8 or 3.x accepts', function () {
    it('kid in libtrust form (distribution 2.8 token servers)', async function () {
      await accepts(sign(current.key, { kid: libtrustKeyID(current.key) }));
    });

    it('kid as RFC 7638 thumbprint (distribution 3)', async function () {
      await accepts(sign(current.key, { kid: jwkThumbprint(current.key) }));
    });

    it('x5c with the bundle certificate itself', async function () {
      await accepts(sign(current.key, { x5c: [current.der] }));
    });

    it('x5c chain leaf -> intermediate ending under a bundle CA', async function () {
      await accepts(sign(leaf.key, { x5c: [leaf.der, intermediate.der] }));
    });

    it('jwk header carrying a bundle key', async function () {
      const jwk = current.cert.publicKey.export({ format: 'jwk' });
      await accepts(sign(current.key, { jwk }));
    });

    it('both certificates of a rotating bundle (old and new key)', async function () {
      await accepts(sign(old.key, { kid: libtrustKeyID(old.key) }));
      await accepts(sign(current.key, { kid: libtrustKeyID(current.key) }));
    });

    it('aud as an array containing the service (RFC 7519)', async function () {
      await accepts(sign(current.key, { kid: libtrustKeyID(current.key) }, claims({ aud: ['other', SERVICE] })));
    });

    it('exp and nbf within the 60 s leeway', async function () {
      const kid = libtrustKeyID(current.key);
      await accepts(sign(current.key, { kid }, claims({ exp: now() - 30 })));
      await accepts(sign(current.key, { kid }, claims({ nbf: now() + 30 })));
    });

    it('RS384, RS512 and the RSA-PSS algorithms distribution 3 accepts by default', async function () {
      const kid = libtrustKeyID(current.key);
      for (const alg of ['RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) await accepts(sign(current.key, { kid }, claims(), alg));
    });

    it('ES256 with an x5c ECDSA bundle certificate, ES384 by JWKS kid, ES512 by thumbprint of a JWKS key', async function () {
      await accepts(sign(ecKey, { x5c: [ecCertDer] }, claims(), 'ES256'));
      await accepts(sign(ecKey, { kid: libtrustKeyID(ecKey) }, claims(), 'ES256'));
      await accepts(sign(es384, { kid: 'es384-key' }, claims(), 'ES384'));
      await accepts(sign(es512, { kid: jwkThumbprint(es512) }, claims(), 'ES512'));
    });

    it('actions "*" grant every action; registry:catalog:* opens the catalog', async function () {
      const kid = libtrustKeyID(current.key);
      const token = sign(current.key, { kid }, claims({ access: [{ type: 'repository', name: 'foo/bar', actions: ['*'] }, { type: 'registry', name: 'catalog', actions: ['*'] }] }));
      await accepts(token, [{ type: 'repository', name: 'foo/bar', actions: ['pull', 'push', 'delete'] }]);
      await accepts(token, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    });

    it('any valid token for GET /v2/ (nothing needed), even with no access claim', async function () {
      await accepts(sign(current.key, { kid: libtrustKeyID(current.key) }, claims({ access: undefined })), []);
    });
  });

  describe('challenges as distribution writes them', function () {
    it('no credentials: realm, service and the scopes needed, no error', async function () {
      const challenge = await refusal(controller, undefined);
      expect(challenge.header).to.equal(CHALLENGE);
      expect(challenge.code).to.equal('UNAUTHORIZED');
    });

    it('GET /v2/ without a token: no scope parameter', async function () {
      const challenge = await refusal(controller, undefined, []);
      expect(challenge.header).to.equal(`Bearer realm="${REALM}",service="${SERVICE}"`);
    });

    it('several resources: one scope parameter, space-separated, actions merged per resource', async function () {
      const needed: Access[] = [
        { type: 'repository', name: 'dst/app', actions: ['pull'] },
        { type: 'repository', name: 'dst/app', actions: ['push'] },
        { type: 'repository', name: 'src/app', actions: ['pull'] },
      ];
      const challenge = await refusal(controller, undefined, needed);
      expect(challenge.header).to.equal(`Bearer realm="${REALM}",service="${SERVICE}",scope="repository:dst/app:pull,push repository:src/app:pull"`);
    });

    it('catalog: scope registry:catalog:*', async function () {
      const challenge = await refusal(controller, undefined, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
      expect(challenge.header).to.equal(`Bearer realm="${REALM}",service="${SERVICE}",scope="registry:catalog:*"`);
    });
  });

  describe('attacks that must fail', function () {
    const invalid = async (authorization: string): Promise<void> => {
      const challenge = await refusal(controller, authorization);
      expect(challenge.header).to.equal(`${CHALLENGE},error="invalid_token"`);
      expect(challenge.code).to.equal('UNAUTHORIZED');
    };

    it('alg none (unsigned, with a trusted kid or x5c)', async function () {
      const payload = b64url(claims());
      await invalid(`Bearer ${b64url({ alg: 'none', typ: 'JWT', kid: libtrustKeyID(current.key) })}.${payload}.`);
      await invalid(`Bearer ${b64url({ alg: 'none', typ: 'JWT', x5c: [current.der] })}.${payload}.`);
      await invalid(`Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`);
    });

    it('HS256 signed with the public certificate (PEM and DER) as the HMAC secret', async function () {
      for (const header of [{ kid: libtrustKeyID(current.key) }, { x5c: [current.der] }]) {
        for (const secret of [current.cert.toString(), current.cert.publicKey.export({ type: 'spki', format: 'pem' }).toString(), current.cert.raw]) {
          const input = `${b64url({ alg: 'HS256', typ: 'JWT', ...header })}.${b64url(claims())}`;
          const mac = createHmac('sha256', secret).update(input).digest('base64url');
          await invalid(`Bearer ${input}.${mac}`);
        }
      }
    });

    it('a key not in the bundle: unknown kid, self-signed x5c, foreign jwk, trusted kid over a foreign signature', async function () {
      await invalid(`Bearer ${sign(stranger.key, { kid: libtrustKeyID(stranger.key) })}`);
      await invalid(`Bearer ${sign(stranger.key, { kid: jwkThumbprint(stranger.key) })}`);
      await invalid(`Bearer ${sign(stranger.key, { x5c: [stranger.der] })}`);
      await invalid(`Bearer ${sign(stranger.key, { x5c: [stranger.der, current.der] })}`);
      await invalid(`Bearer ${sign(stranger.key, { jwk: stranger.cert.publicKey.export({ format: 'jwk' }) })}`);
      await invalid(`Bearer ${sign(stranger.key, { kid: libtrustKeyID(current.key) })}`);
      await invalid(`Bearer ${sign(stranger.key, { x5c: [current.der] })}`);
    });

    it('a bundle certificate outside its validity period (x5c)', async function () {
      await invalid(`Bearer ${sign(expired.key, { x5c: [expired.der] })}`);
    });

    it('an expired token, and one not yet valid, beyond the leeway; a token without exp', async function () {
      const kid = libtrustKeyID(current.key);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ exp: now() - 120 }))}`);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ nbf: now() + 120 }))}`);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ exp: undefined }))}`);
    });

    it('a wrong issuer, a wrong audience, an audience array without the service', async function () {
      const kid = libtrustKeyID(current.key);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ iss: 'someone else' }))}`);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ aud: 'other.example' }))}`);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ aud: ['other.example'] }))}`);
      await invalid(`Bearer ${sign(current.key, { kid }, claims({ aud: undefined }))}`);
    });

    it('a tampered payload under a valid signature', async function () {
      const [header, , signature] = sign(current.key, { kid: libtrustKeyID(current.key) }, claims({ access: [] })).split('.');
      await invalid(`Bearer ${header}.${b64url(claims())}.${signature}`);
    });

    it('an algorithm outside auth.token.signingalgorithms', async function () {
      const strict = await createTokenController({ ...config, signingalgorithms: ['RS512'] }, logger);
      const challenge = await refusal(strict, `Bearer ${sign(current.key, { kid: libtrustKeyID(current.key) })}`);
      expect(challenge.header).to.match(/error="invalid_token"$/);
      await strict.authorize({ authorization: `Bearer ${sign(current.key, { kid: libtrustKeyID(current.key) }, claims(), 'RS512')}` }, PULL_PUSH);
    });

    it('garbage: not a JWT, bad base64, non-JSON header, a header that is not an object, a malformed access claim', async function () {
      await invalid('Bearer garbage');
      await invalid('Bearer a.b.c');
      await invalid(`Bearer ${Buffer.from('{not json').toString('base64url')}.${b64url(claims())}.AAAA`);
      await invalid(`Bearer ${b64url(['x5c'])}.${b64url(claims())}.AAAA`);
      await invalid(`Bearer !!!.${b64url(claims())}.AAAA`);
      await invalid(`Bearer ${sign(current.key, { kid: libtrustKeyID(current.key) }, claims({ access: 'everything' }))}`);
      await invalid(`Bearer ${sign(current.key, { x5c: ['not base64!'] })}`);
      await invalid(`Bearer ${sign(current.key, { x5c: [Buffer.from('not a certificate').toString('base64')] })}`);
    });

    it('Basic credentials or an empty bearer: a plain challenge without error', async function () {
      for (const authorization of ['Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer ', 'token']) {
        const challenge = await refusal(controller, authorization);
        expect(challenge.header).to.equal(CHALLENGE);
      }
    });

    it('a token for another repository or with fewer actions: insufficient_scope', async function () {
      const kid = libtrustKeyID(current.key);
      const other = sign(current.key, { kid }, claims({ access: [{ type: 'repository', name: 'foo/other', actions: ['pull', 'push'] }] }));
      const pullOnly = sign(current.key, { kid }, claims({ access: [{ type: 'repository', name: 'foo/bar', actions: ['pull'] }] }));
      const catalogAsRepo = sign(current.key, { kid }, claims({ access: [{ type: 'repository', name: 'catalog', actions: ['*'] }] }));
      const catalog: Access[] = [{ type: 'registry', name: 'catalog', actions: ['*'] }];
      const cases: Array<[string, Access[]]> = [[other, PULL_PUSH], [pullOnly, PULL_PUSH], [catalogAsRepo, catalog]];
      for (const [token, needed] of cases) {
        const challenge = await refusal(controller, `Bearer ${token}`, needed);
        expect(challenge.header).to.match(/,error="insufficient_scope"$/);
        expect(challenge.code).to.equal('UNAUTHORIZED');
      }
    });
  });

  describe('configuration errors', function () {
    const startError = async (overrides: Partial<TokenAuth>): Promise<string> => {
      try {
        await createTokenController({ ...config, ...overrides }, logger);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('createTokenController accepted a bad configuration');
    };

    it('a missing bundle names the file and auth.token.rootcertbundle', async function () {
      const missing = join(dir, 'missing.pem');
      expect(await startError({ rootcertbundle: missing, jwks: undefined })).to.include(missing).and.include('auth.token.rootcertbundle');
    });

    it('a garbage bundle names the file and the key', async function () {
      const garbage = join(dir, 'garbage.pem');
      await writeFile(garbage, 'this is not a certificate\n');
      expect(await startError({ rootcertbundle: garbage, jwks: undefined })).to.include(garbage).and.include('auth.token.rootcertbundle');
      await writeFile(garbage, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      expect(await startError({ rootcertbundle: garbage, jwks: undefined })).to.include(garbage).and.include('auth.token.rootcertbundle');
    });
  });
});
