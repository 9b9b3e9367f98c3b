import { expect } from 'chai';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { jwkThumbprint, libtrustKeyID } from '../../../registry/src/auth/keyid.js';

describe('token key IDs (registry/src/auth/keyid)', function () {
  it('computes the RFC 7638 section 3.1 example thumbprint', function () {
    const key = createPublicKey({
      format: 'jwk',
      key: {
        kty: 'RSA',
        n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
        e: 'AQAB',
      },
    });
    expect(jwkThumbprint(key)).to.equal('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('writes the libtrust ID as 12 groups of 4 base32 characters (240 bits)', function () {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(libtrustKeyID(publicKey)).to.match(/^[A-Z2-7]{4}(?::[A-Z2-7]{4}){11}$/);
  });

  it('gives a private key the same IDs as its public half, and different keys different IDs', function () {
    const a = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const b = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(libtrustKeyID(a.privateKey)).to.equal(libtrustKeyID(a.publicKey));
    expect(jwkThumbprint(a.privateKey)).to.equal(jwkThumbprint(a.publicKey));
    expect(libtrustKeyID(a.publicKey)).not.to.equal(libtrustKeyID(b.publicKey));
  });
});
