// The token verifier's trust material: the certificates of auth.token.rootcertbundle and the keys of auth.token.jwks,
// indexed by every key ID a token server may put in `kid`, and the x5c chain check against those certificates.
import { createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigFileError, readConfigFile } from '../config/config-file.js';
import { jwkThumbprint, libtrustKeyID } from './keyid.js';

export interface TrustedKeys {
  /** The bundle's certificates: the anchors an x5c chain must end in. */
  roots: X509Certificate[];
  /** Key by libtrust key ID, RFC 7638 thumbprint, and (for JWKS keys) the declared kid. */
  byKid: Map<string, KeyObject>;
  /** Key by its DER SubjectPublicKeyInfo in base64, to recognise a trusted key sent whole in a `jwk` header. */
  bySpki: Map<string, KeyObject>;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM bundle's text; throws a ConfigFileError when it holds none or one does not parse. */
export function parseCertificateBundle(text: string, configKey: string, path: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new ConfigFileError(configKey, path, 'holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----" blocks)');
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new ConfigFileError(configKey, path, `has a certificate (number ${i + 1}) that does not parse: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** Reads every CERTIFICATE block of a PEM bundle; throws a ConfigFileError naming the file and the config key. */
export async function readCertificateBundle(path: string, configKey: string): Promise<X509Certificate[]> {
  return parseCertificateBundle((await readConfigFile(configKey, path)).toString('utf8'), configKey, path);
}

/** Reads the public keys of a JSON Web Key Set; throws a ConfigFileError naming the file and the config key. */
export async function readJwks(path: string, configKey: string): Promise<Array<{ key: KeyObject; kid?: string }>> {
  const text = (await readConfigFile(configKey, path)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(configKey, path, `is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new ConfigFileError(configKey, path, 'is not a JSON Web Key Set (no "keys" array)');
  return keys.map((jwk: unknown, i) => {
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      const kid = (jwk as { kid?: unknown }).kid;
      return typeof kid === 'string' && kid !== '' ? { key, kid } : { key };
    } catch (err) {
      throw new ConfigFileError(configKey, path, `has a key (number ${i + 1}) that is not a usable public key: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The DER SubjectPublicKeyInfo (base64) of a key or of a private key's public half: equal means the same key. */
export function spkiOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Loads the bundle (and the JWKS when given) and indexes their keys. */
export async function loadTrustedKeys(rootcertbundle: string, jwks: string | undefined): Promise<TrustedKeys> {
  const roots = rootcertbundle === '' ? [] : await readCertificateBundle(rootcertbundle, 'auth.token.rootcertbundle');
  const jwksKeys = jwks === undefined || jwks === '' ? [] : await readJwks(jwks, 'auth.token.jwks');
  if (roots.length === 0 && jwksKeys.length === 0) {
    throw new Error('auth.token.rootcertbundle: token auth needs at least one signing certificate (or auth.token.jwks keys)');
  }
  const trusted: TrustedKeys = { roots, byKid: new Map(), bySpki: new Map() };
  const add = (key: KeyObject, kid?: string): void => {
    trusted.byKid.set(libtrustKeyID(key), key);
    trusted.byKid.set(jwkThumbprint(key), key);
    if (kid !== undefined) trusted.byKid.set(kid, key);
    trusted.bySpki.set(spkiOf(key), key);
  };
  for (const cert of roots) add(cert.publicKey);
  for (const { key, kid } of jwksKeys) add(key, kid);
  return trusted;
}

function checkValidity(cert: X509Certificate, now: Date): void {
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new Error(`certificate "${cert.subject.replace(/\n/g, ', ')}" is outside its validity period ${cert.validFrom} - ${cert.validTo}`);
  }
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Verifies an x5c header (RFC 7515 4.1.6: leaf first, each certificate signed by the next) against the bundle, as Go's
 * x509.Verify does for distribution: every certificate in its validity period, intermediates marked as CAs, the chain
 * ending in a bundle certificate or in one a bundle certificate signed. Returns the leaf's public key.
 */
export function verifyCertificateChain(x5c: unknown, roots: readonly X509Certificate[], now: Date): KeyObject {
  if (!Array.isArray(x5c) || x5c.length === 0) throw new Error('x5c is not a non-empty array');
  const chain = x5c.map((entry: unknown, i) => {
    if (typeof entry !== 'string' || !STRICT_BASE64.test(entry)) throw new Error(`x5c[${i}] is not base64 DER`);
    try {
      return new X509Certificate(Buffer.from(entry, 'base64'));
    } catch {
      throw new Error(`x5c[${i}] is not an X.509 certificate`);
    }
  });
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    checkValidity(cert, now);
    if (roots.some((root) => root.raw.equals(cert.raw))) return chain[0]!.publicKey;
    const root = roots.find((candidate) => signedBy(cert, candidate));
    if (root !== undefined) {
      checkValidity(root, now);
      return chain[0]!.publicKey;
    }
    const next = chain[i + 1];
    if (next === undefined) break;
    if (!next.ca) throw new Error(`x5c[${i + 1}] issues a certificate but is not a CA`);
    if (!signedBy(cert, next)) throw new Error(`x5c[${i}] is not signed by x5c[${i + 1}]`);
  }
  throw new Error('x5c chain does not end in a certificate of auth.token.rootcertbundle');
}
