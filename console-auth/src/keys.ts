// Key management: the RSA signing key and the certificate the registry trusts (its auth.token.rootcertbundle).
// node:crypto makes the key (native, fast); node-forge writes the X.509 certificate, which node:crypto cannot.
import { generateKeyPairSync, randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';

export interface CertificateRequest {
  commonName: string;
  /** The key the certificate is for (an RSA key: node-forge signs and embeds RSA keys only). */
  publicKey: KeyObject;
  /** Signs the certificate: the subject's own private key for a self-signed certificate. */
  signingKey: KeyObject;
  /** The issuer's certificate; omitted for a self-signed certificate. */
  issuer?: X509Certificate;
  notBefore?: Date;
  notAfter?: Date;
  /** Marks the certificate as a CA that may sign others. */
  ca?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Issues an X.509 certificate (PEM), SHA-256 with RSA, with a positive random 128-bit serial. */
export function issueCertificate(req: CertificateRequest): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(req.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A leading 01 keeps the DER INTEGER positive, which Go's x509 parser (distribution's) requires.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const notBefore = req.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = req.notAfter ?? new Date(notBefore.getTime() + 3650 * DAY_MS);
  const subject = [{ name: 'commonName', value: req.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(req.issuer === undefined ? subject : forge.pki.certificateFromPem(req.issuer.toString()).subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: req.ca ?? req.issuer === undefined, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyCertSign: req.ca ?? req.issuer === undefined, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const signingKey = forge.pki.privateKeyFromPem(req.signingKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  cert.sign(signingKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export interface KeygenOptions {
  /** RSA modulus size; 4096 unless told. */
  bits?: number;
  commonName?: string;
  days?: number;
}

export interface KeygenResult {
  keyPath: string;
  certPath: string;
}

/**
 * `console-auth keygen`: writes server.key (PKCS#8, mode 0600) and the self-signed server.pem into `dir`.
 * Refuses to overwrite either file: replacing a live key by accident would lock every client out; rotate into a new dir.
 */
export async function keygen(dir: string, opts: KeygenOptions = {}): Promise<KeygenResult> {
  const keyPath = join(dir, 'server.key');
  const certPath = join(dir, 'server.pem');
  for (const path of [keyPath, certPath]) {
    if (existsSync(path)) throw new Error(`${path} already exists; keygen never overwrites a key: choose another --out directory`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 4096 });
  const now = new Date(Date.now() - 60_000);
  const certificate = issueCertificate({
    commonName: opts.commonName ?? 'console-auth token signer',
    publicKey,
    signingKey: privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + (opts.days ?? 3650) * DAY_MS),
  });
  await mkdir(dir, { recursive: true });
  await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await writeFile(certPath, certificate, { mode: 0o644, flag: 'wx' });
  return { keyPath, certPath };
}
