// Digests as the OCI image spec defines them, restricted to the algorithms a registry must verify.
import { createHash, type Hash } from 'node:crypto';

export type Algorithm = 'sha256' | 'sha512';

export interface Digest {
  algorithm: Algorithm;
  hex: string;
}

const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export class DigestError extends Error {
  constructor(message: string, readonly unsupported = false) {
    super(message);
    this.name = 'DigestError';
  }
}

/** Parses "algorithm:hex", rejecting anything that is not a well-formed sha256 or sha512 digest. */
export function parseDigest(value: string): Digest {
  if (!DIGEST_GRAMMAR.test(value)) {
    throw new DigestError(`"${truncate(value)}" is not a digest of the form algorithm:hex`);
  }
  const [algorithm, hex] = value.split(':') as [string, string];
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new DigestError(`digest algorithm "${truncate(algorithm)}" is not supported: use sha256 or sha512`, true);
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new DigestError(`a ${algorithm} digest has ${HEX_LENGTH[algorithm]} lowercase hex characters, got "${truncate(hex)}"`);
  }
  return { algorithm, hex };
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function formatDigest(d: Digest): string {
  return `${d.algorithm}:${d.hex}`;
}

export function newHash(algorithm: Algorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(content: Buffer, algorithm: Algorithm = 'sha256'): Digest {
  return { algorithm, hex: createHash(algorithm).update(content).digest('hex') };
}

export function sameDigest(a: Digest, b: Digest): boolean {
  return a.algorithm === b.algorithm && a.hex === b.hex;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
