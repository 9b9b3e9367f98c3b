// Certificates made with the openssl CLI for TLS tests: a CA, a server certificate for 127.0.0.1 and a client
// certificate, both signed by the CA.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './tools.js';

function openssl(args: string[], cwd: string): Promise<string> {
  return runTool('/usr/bin/openssl', args.map((a) => (a.startsWith('@') ? join(cwd, a.slice(1)) : a)));
}

/** Writes ca.pem/ca.key, server.pem/server.key (for IP 127.0.0.1) and client.pem/client.key into dir. */
export async function makePki(dir: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '@ca.key', '-out', '@ca.pem', '-subj', '/CN=test CA', '-days', '2'], dir);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `@${name}.key`, '-out', `@${name}.csr`, '-subj', `/CN=${name}`], dir);
    await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
    await openssl(['x509', '-req', '-in', `@${name}.csr`, '-CA', '@ca.pem', '-CAkey', '@ca.key', '-CAcreateserial', '-out', `@${name}.pem`, '-days', '2', '-extfile', `@${name}.ext`], dir);
  }
}
