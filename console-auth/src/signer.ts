// Token signing: access tokens for the registry and refresh tokens for this service, both signed with token.key.
// The header carries both key references distribution verifies: `kid` in libtrust form (2.8 and the LAIN console)
// and `x5c` with the signing certificate (3.x checks it against its bundle; 2.8 prefers it too).
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import jwt from 'jsonwebtoken';
import { libtrustKeyID } from '../../registry/src/auth/keyid.js';
import { readCertificateBundle, spkiOf } from '../../registry/src/auth/keys.js';
import type { Scope } from './scope.js';

/**
 * The audience of refresh tokens. It is not a registry's service name, so a registry refuses a refresh token used as
 * an access token even for GET /v2/.
 */
const REFRESH_AUDIENCE = 'console-auth:refresh-token';

export interface AccessToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

export interface RefreshClaims {
  account: string;
  stamp: string;
  service: string;
}

function algorithmFor(key: KeyObject): jwt.Algorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return 'ES384';
  if (key.asymmetricKeyType === 'ec' && curve === 'secp521r1') return 'ES512';
  throw new Error(`token.key: a ${key.asymmetricKeyType ?? 'symmetric'} key cannot sign registry tokens (use RSA or ECDSA P-256/384/521)`);
}

export class TokenSigner {
  readonly algorithm: jwt.Algorithm;
  readonly kid: string;

  private constructor(
    private readonly key: KeyObject,
    private readonly chain: readonly X509Certificate[],
    private readonly issuer: string,
  ) {
    this.algorithm = algorithmFor(key);
    this.kid = libtrustKeyID(key);
  }

  /** Loads token.key and token.certificate (the signing certificate first, then any intermediates). */
  static async load(keyPath: string, certificatePath: string, issuer: string): Promise<TokenSigner> {
    let key: KeyObject;
    try {
      key = createPrivateKey(await readFile(keyPath));
    } catch (err) {
      throw new Error(`token.key: cannot load private key ${keyPath}: ${(err as Error).message}`, { cause: err });
    }
    const chain = await readCertificateBundle(certificatePath, 'token.certificate');
    if (spkiOf(chain[0]!.publicKey) !== spkiOf(key)) {
      throw new Error(`token.key ${keyPath} does not match token.certificate ${certificatePath} (the first certificate must be the key's)`);
    }
    return new TokenSigner(key, chain, issuer);
  }

  signAccessToken(subject: string, audience: string, access: readonly Scope[], ttl: number): AccessToken {
    const issuedAt = new Date();
    const now = Math.floor(issuedAt.getTime() / 1000);
    const claims = {
      iss: this.issuer,
      sub: subject,
      aud: audience,
      exp: now + ttl,
      nbf: now,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access: access.map(({ type, name, actions }) => ({ type, name, actions })),
    };
    const header = { alg: this.algorithm, typ: 'JWT', kid: this.kid, x5c: this.chain.map((c) => c.raw.toString('base64')) };
    return { token: jwt.sign(claims, this.key, { algorithm: this.algorithm, header }), expiresIn: ttl, issuedAt };
  }

  signRefreshToken(claims: RefreshClaims, ttl: number): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: this.issuer, sub: claims.account, aud: REFRESH_AUDIENCE, service: claims.service, stamp: claims.stamp, iat: now, exp: now + ttl, jti: randomBytes(16).toString('hex') };
    return jwt.sign(payload, this.key, { algorithm: this.algorithm, header: { alg: this.algorithm, typ: 'JWT', kid: this.kid } });
  }

  /** The claims of a refresh token this key signed, or undefined when it is not one (forged, expired, other key). */
  verifyRefreshToken(token: string): RefreshClaims | undefined {
    try {
      const payload = jwt.verify(token, this.chain[0]!.publicKey, { algorithms: [this.algorithm], issuer: this.issuer, audience: REFRESH_AUDIENCE });
      if (typeof payload !== 'object' || typeof payload.sub !== 'string' || typeof payload.stamp !== 'string' || typeof payload.service !== 'string') return undefined;
      return { account: payload.sub, stamp: payload.stamp, service: payload.service };
    } catch {
      return undefined;
    }
  }
}
