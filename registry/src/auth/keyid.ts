// The two key identifiers token servers put in a JWT's `kid` header, computed the same way on both ends:
// console-auth writes them, the registry's token verifier looks keys up by them.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * libtrust's key ID (docker/libtrust keyIDFromCryptoKey), what distribution 2.x and its token servers use:
 * SHA-256 of the DER SubjectPublicKeyInfo, truncated to 240 bits, base32 in 12 groups of 4 joined by ":".
 */
export function libtrustKeyID(key: KeyObject): string {
  const spki = publicKeyOf(key).export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(spki).digest().subarray(0, 30);
  return base32(digest).match(/.{1,4}/g)!.join(':');
}

/** The RFC 7638 JWK thumbprint (SHA-256, base64url), what distribution 3 uses as a bundle key's ID. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = publicKeyOf(key).export({ format: 'jwk' });
  // RFC 7638 section 3.2: only the required members, in lexicographic order, no whitespace.
  let members: Record<string, unknown>;
  switch (jwk.kty) {
    case 'RSA':
      members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
      break;
    case 'EC':
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
      break;
    case 'OKP':
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
      break;
    default:
      throw new Error(`no RFC 7638 thumbprint for key type ${String(jwk.kty)}`);
  }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

// A private key's ID is its public half's, so a signer and a verifier agree without exchanging anything else.
function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}
