// http.tls as Node's TLS options: the certificate, its key and the client CAs read from their files and checked
// together, so a missing file or a key that does not match its certificate stops the start with the setting's name.
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { HttpConfig } from './config/types.js';
import { SettingError } from './setting-error.js';

export type TlsOptions = SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean };

async function readSetting(setting: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new SettingError(setting, `${setting} ${JSON.stringify(path)}: cannot read: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the files http.tls names; SettingError naming the key when one cannot be read or they do not fit together. */
export async function readTlsOptions(tls: NonNullable<HttpConfig['tls']>): Promise<TlsOptions> {
  const options: TlsOptions = {
    cert: await readSetting('http.tls.certificate', tls.certificate),
    key: await readSetting('http.tls.key', tls.key),
  };
  if (tls.clientcas?.length) {
    // distribution requires and verifies a client certificate from one of these CAs whenever clientcas is set.
    options.ca = await Promise.all(tls.clientcas.map((path, i) => readSetting(`http.tls.clientcas[${i}]`, path)));
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  try {
    createSecureContext(options);
  } catch (err) {
    const message = (err as Error).message;
    const why = /key values mismatch/.test(message) ? 'the key does not belong to the certificate' : message;
    throw new SettingError('http.tls', `http.tls: cannot use certificate ${JSON.stringify(tls.certificate)} with key ${JSON.stringify(tls.key)}: ${why}`, {
      cause: err,
    });
  }
  return options;
}
