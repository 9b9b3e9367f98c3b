// A self-signed certificate for 127.0.0.1 (openssl), for servers that tests reach over https.
import { join } from 'node:path';
import { runTool, toolPath } from './tools.js';

export interface Certificate {
  certPath: string;
  keyPath: string;
}

/** Writes cert.pem and key.pem into dir: a self-signed CA certificate whose subjectAltName is IP 127.0.0.1. */
export async function selfSignedCertificate(dir: string): Promise<Certificate> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await runTool(toolPath('openssl'), [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', keyPath, '-out', certPath,
  ]);
  return { certPath, keyPath };
}
