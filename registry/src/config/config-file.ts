// A file the config names (a certificate bundle, a key set, a TLS key): read the same bounded way wherever it is read,
// and when it cannot be used, one error that names the config key, the file and why, so that `registry serve`,
// `registry config-check` and `bootstrap render` all say the same thing.
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/** Far above any certificate bundle, key or key set; keeps /dev/zero or a disk image from being read into memory. */
export const MAX_CONFIG_FILE_BYTES = 16 * 1024 * 1024;

export class ConfigFileError extends Error {
  constructor(
    /** The config key that names the file, e.g. auth.token.jwks or http.tls.clientcas[1]. */
    readonly key: string,
    readonly path: string,
    /** What is wrong with it, e.g. "cannot be read (ENOENT)". */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${key}: ${path} ${reason}`, options);
    this.name = 'ConfigFileError';
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function cannotRead(key: string, path: string, err: unknown): ConfigFileError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new ConfigFileError(key, path, `cannot be read (${code})`, { cause: err });
}

/** The bytes of the regular file at path (symbolic links followed), at most MAX_CONFIG_FILE_BYTES of them. */
export async function readConfigFile(key: string, path: string): Promise<Buffer> {
  let info: Stats;
  try {
    // Checked before opening: opening a named pipe would wait for a writer, a device would be read without end.
    info = await stat(path);
  } catch (err) {
    throw cannotRead(key, path, err);
  }
  if (!info.isFile()) throw new ConfigFileError(key, path, `is ${kindOf(info)}, not a regular file`);
  if (info.size > MAX_CONFIG_FILE_BYTES) throw new ConfigFileError(key, path, `is ${info.size} bytes long; at most ${MAX_CONFIG_FILE_BYTES} are read`);
  try {
    return await readFile(path);
  } catch (err) {
    throw cannotRead(key, path, err);
  }
}
