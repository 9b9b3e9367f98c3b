// The OCI distribution spec's grammars for repository names and tags.
import { RegistryError } from '../errcode.js';
import { DigestError, parseDigest, type Digest } from './digest.js';

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** distribution's limit on a repository name. */
export const NAME_MAX_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= NAME_MAX_LENGTH && NAME.test(name);
}

export function checkName(name: string): string {
  if (!isValidName(name)) {
    throw new RegistryError(
      'NAME_INVALID',
      `invalid repository name "${clip(name)}": use lowercase path components of [a-z0-9] joined by ".", "_", "__" or "-", separated by "/", at most ${NAME_MAX_LENGTH} characters`,
      { name: clip(name) },
    );
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function checkTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new RegistryError(
      'TAG_INVALID',
      `invalid tag "${clip(tag)}": a tag is 1 to 128 characters of [A-Za-z0-9_.-] and does not start with "." or "-"`,
      { tag: clip(tag) },
    );
  }
  return tag;
}

/** Parses a digest from a URL or query, as DIGEST_INVALID on failure. */
export function checkDigest(value: string): Digest {
  try {
    return parseDigest(value);
  } catch (err) {
    if (err instanceof DigestError) throw new RegistryError('DIGEST_INVALID', err.message, { digest: clip(value) });
    throw err;
  }
}

/** A manifest reference is a digest or a tag. */
export type Reference = { digest: Digest; tag?: undefined } | { tag: string; digest?: undefined };

/** The reference of a PUT: a bad one is TAG_INVALID or DIGEST_INVALID (400), since the client asked to create it. */
export function parseReference(value: string): Reference {
  if (value.includes(':')) return { digest: checkDigest(value) };
  return { tag: checkTag(value) };
}

/**
 * The reference of a GET, HEAD or DELETE. No manifest can be stored under a malformed reference, so it names an
 * unknown manifest: 404 MANIFEST_UNKNOWN, as the OCI conformance suite requires and distribution answers.
 */
export function lookupReference(value: string): Reference {
  try {
    return parseReference(value);
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    throw new RegistryError('MANIFEST_UNKNOWN', `no manifest can be known as "${clip(value)}": it is neither a valid tag nor a digest (${err.message})`, {
      reference: clip(value),
    });
  }
}

export function clip(value: string, max = 100): string {
  return value.length > max ? `${value.slice(0, max - 3)}...` : value;
}
