// Shared by the file-check tests: a temp dir with two certificate/key pairs (so a key can be the wrong one) and an
// empty storage root.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { keygen, type KeygenResult } from '../../../console-auth/src/keys.js';
import { makeTempDir } from '../../helpers/spawn.js';

export interface KeyPairDir {
  dir: string;
  pair: KeygenResult;
  other: KeygenResult;
  /** An existing, empty directory for storage.filesystem.rootdirectory. */
  root: string;
}

export async function makeKeyPairDir(name: string): Promise<KeyPairDir> {
  const dir = await makeTempDir(name);
  const [pair, other] = await Promise.all([keygen(join(dir, 'a'), { bits: 2048 }), keygen(join(dir, 'b'), { bits: 2048 })]);
  const root = join(dir, 'data');
  await mkdir(root);
  return { dir, pair, other, root };
}
