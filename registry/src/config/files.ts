// Every file a valid config names, checked the way `registry serve` reads it, so that `registry config-check` and
// `bootstrap render` refuse a config the registry could not start with (or, for http.tls.clientcas, could not use).
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { parseCertificateBundle, readCertificateBundle, readJwks } from '../auth/keys.js';
import { openFilesystemDriver } from '../storage/driver/filesystem.js';
import { ConfigFileError, readConfigFile } from './config-file.js';
import type { Config, HttpConfig } from './types.js';

/** What each file must hold, keyed by the config key that names it, for messages that say what to put there. */
const CONTENTS: Record<string, string> = {
  'auth.token.rootcertbundle': "the token server's certificate (PEM)",
  'auth.token.jwks': "the token server's JSON Web Key Set",
  'auth.htpasswd.path': 'the htpasswd file (htpasswd -B)',
  'http.tls.certificate': "the registry's TLS certificate (PEM)",
  'http.tls.key': "the private key (PEM) of the registry's TLS certificate",
  'http.tls.clientcas': 'the CA certificates (PEM) that sign client certificates',
  'storage.filesystem.rootdirectory': 'a directory for the images',
};

/** What the file a key names must hold, e.g. "the token server's certificate (PEM)" for auth.token.rootcertbundle. */
export function fileContents(key: string): string {
  return CONTENTS[key.replace(/\[\d+\]$/, '')] ?? 'the file';
}

/** Runs one check; a ConfigFileError is collected and the check's result is undefined. Any other error is a bug. */
async function check<T>(problems: ConfigFileError[], run: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    problems.push(err);
    return undefined;
  }
}

function privateKey(bytes: Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(bytes);
  } catch (err) {
    throw new ConfigFileError('http.tls.key', path, `holds no usable private key: ${(err as Error).message}`, { cause: err });
  }
}

/** The certificate and key as the https server takes them: both parse, the key is the certificate's, TLS accepts them. */
async function checkTls(tls: NonNullable<HttpConfig['tls']>, problems: ConfigFileError[]): Promise<void> {
  const certBytes = await check(problems, () => readConfigFile('http.tls.certificate', tls.certificate));
  const keyBytes = await check(problems, () => readConfigFile('http.tls.key', tls.key));
  const chain: X509Certificate[] | undefined =
    certBytes && (await check(problems, () => parseCertificateBundle(certBytes.toString('utf8'), 'http.tls.certificate', tls.certificate)));
  const key = keyBytes && (await check(problems, () => privateKey(keyBytes, tls.key)));
  if (chain === undefined || key === undefined) return;
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    const subject = leaf.subject.replace(/\n/g, ', ');
    problems.push(new ConfigFileError('http.tls.key', tls.key, `is not the key of the certificate in ${tls.certificate} (${subject}): the https server would refuse the pair`));
    return;
  }
  try {
    createSecureContext({ cert: certBytes, key: keyBytes });
  } catch (err) {
    problems.push(new ConfigFileError('http.tls.certificate', tls.certificate, `is refused by TLS together with ${tls.key}: ${(err as Error).message}`, { cause: err }));
  }
}

/** Every problem with the files config names; empty when serve would read them all. */
export async function checkFiles(config: Config): Promise<ConfigFileError[]> {
  const problems: ConfigFileError[] = [];
  const { storage, auth, http } = config;
  if (storage.driver.type === 'filesystem') {
    const filesystem = storage.driver.filesystem;
    await check(problems, () => openFilesystemDriver(filesystem));
  }
  if (auth?.type === 'token') {
    await check(problems, () => readCertificateBundle(auth.rootcertbundle, 'auth.token.rootcertbundle'));
    const jwks = auth.jwks;
    if (jwks !== undefined) await check(problems, () => readJwks(jwks, 'auth.token.jwks'));
  }
  if (auth?.type === 'htpasswd') await check(problems, () => readConfigFile('auth.htpasswd.path', auth.path));
  if (http.tls !== undefined) {
    await checkTls(http.tls, problems);
    for (const [i, path] of (http.tls.clientcas ?? []).entries()) {
      await check(problems, () => readCertificateBundle(path, `http.tls.clientcas[${i}]`));
    }
  }
  return problems;
}
