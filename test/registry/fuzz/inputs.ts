// fast-check arbitraries for the parts of a registry request: names, tags, digests, references, upload ids, header
// values, queries. Each mixes valid values (seeded ones included, so reads reach real content) with values just off
// the grammar and plain garbage.
import fc from 'fast-check';
import type { Seeds } from './target.js';

/** Printable ASCII: what a header value may carry without breaking HTTP framing (that is framing.test.ts's job). */
export const headerText = (maxLength = 40) => fc.string({ unit: 'grapheme-ascii', maxLength });

const isHeaderText = (value: string) => /^[\x20-\x7e]*$/.test(value);

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

// Keeps the characters RFC 3986 allows raw in a path, and "%" so that broken escapes reach the server as sent.
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/%]/;

/** Percent-encodes what cannot go raw on a request line (spaces, "?", "#", non-ASCII), leaving "%" as is. */
export function pathEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (b < 0x80 && PATH_SAFE.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,8}){0,2}$/);

export const validName = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

export const badName = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  validName.map((n) => n.toUpperCase()),
  validName.map((n) => `${n}/`),
  validName.map((n) => `/${n}`),
  validName.map((n) => `${n}/../${n}`),
  fc.integer({ min: 256, max: 400 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom('', '.', '..', '../..', 'a//b', '-a', 'a-', 'a___b', '_catalog', 'v2', '%2e%2e', 'a%2Fb', 'a%', 'a%zz', '%00', 'a\u0000b'),
);

export function names(seeds: Seeds) {
  return fc.oneof({ arbitrary: fc.constantFrom(...seeds.names), weight: 3 }, { arbitrary: validName, weight: 2 }, { arbitrary: badName, weight: 3 });
}

export const validTag = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}$/);

export const badTag = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('.hidden', '-dash', '', 'a'.repeat(129), 'tag with space', 'tag/slash', 'tag%2Fslash', 'tag:colon'),
);

/** Digests on and off the grammar; sha256 and sha512 are the algorithms the registry supports. */
export const randomDigest = fc.oneof(
  hex(32).map((h) => `sha256:${h}`),
  hex(64).map((h) => `sha512:${h}`),
  hex(48).map((h) => `sha384:${h}`),
  hex(32).map((h) => `sha256:${h.slice(1)}`),
  hex(33).map((h) => `sha256:${h}`),
  hex(32).map((h) => `sha256:${h.toUpperCase()}`),
  hex(32).map((h) => `SHA256:${h}`),
  hex(32).map((h) => `sha256+b64u:${h}`),
  hex(16).map((h) => `md5:${h}`),
  hex(32).map((h) => `:${h}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 80 }).map((s) => `sha256:${s}`),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);

export function digests(seeds: Seeds) {
  return fc.oneof({ arbitrary: fc.constantFrom(...seeds.blobs, ...seeds.manifests), weight: 1 }, { arbitrary: randomDigest, weight: 3 });
}

export function tags(seeds: Seeds) {
  return fc.oneof({ arbitrary: fc.constantFrom(...Object.values(seeds.tags).flat()), weight: 1 }, { arbitrary: validTag, weight: 2 }, { arbitrary: badTag, weight: 2 });
}

export function references(seeds: Seeds) {
  return fc.oneof(tags(seeds), digests(seeds));
}

export function uploadIds(seeds: Seeds) {
  return fc.oneof(fc.constant(seeds.uploadUuid), fc.uuid(), fc.string({ unit: 'grapheme-ascii', maxLength: 40 }));
}

const MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/octet-stream',
  'application/json',
  '*/*',
];

const mediaType = fc.oneof(fc.constantFrom(...MEDIA_TYPES), headerText(60));

const byteCount = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.nat(), fc.constantFrom(-1, 2 ** 53, Number.MAX_SAFE_INTEGER));

/** Content-Range values of a chunk: the spec's "<start>-<end>", the RFC form, and garbage. */
export const contentRange = fc.oneof(
  fc.tuple(byteCount, byteCount).map(([a, b]) => `${a}-${b}`),
  fc.tuple(byteCount, byteCount, fc.oneof(byteCount.map(String), fc.constant('*'))).map(([a, b, t]) => `bytes ${a}-${b}/${t}`),
  headerText(),
);

/** Range values of a blob GET. */
export const range = fc.oneof(
  fc.tuple(byteCount, byteCount).map(([a, b]) => `bytes=${a}-${b}`),
  byteCount.map((n) => `bytes=-${n}`),
  byteCount.map((n) => `bytes=${n}-`),
  fc.tuple(byteCount, byteCount, byteCount, byteCount).map(([a, b, c, d]) => `bytes=${a}-${b},${c}-${d}`),
  headerText(),
);

/** Optional request headers of any route; fast-check drops and shrinks them one by one. */
export function headers(seeds: Seeds) {
  return fc
    .record(
      {
        Accept: fc.oneof(mediaType, fc.array(mediaType, { maxLength: 4 }).map((t) => t.join(', '))),
        'Content-Type': mediaType,
        Range: range,
        'Content-Range': contentRange,
        'If-None-Match': fc.oneof(digests(seeds).filter(isHeaderText).map((d) => `"${d}"`), headerText()),
        Authorization: fc.oneof(headerText().map((t) => `Bearer ${t}`), headerText().map((t) => `Basic ${t}`), headerText()),
        'X-Forwarded-Proto': headerText(10),
        'X-Forwarded-Host': headerText(30),
      },
      { requiredKeys: [] },
    )
    .map((record) => Object.entries(record) as [string, string][]);
}

/** A query string of the keys the API reads (and one it does not), with values on and off their grammars. */
export function query(seeds: Seeds) {
  const value = fc.oneof(headerText(30), digests(seeds), names(seeds), byteCount.map(String));
  return fc
    .record(
      { n: fc.oneof(byteCount.map(String), headerText(8)), last: value, digest: digests(seeds), mount: randomDigest, from: names(seeds), artifactType: mediaType, other: value },
      { requiredKeys: [] },
    )
    .map((record) => {
      const pairs = Object.entries(record).map(([k, v]) => `${k}=${pathEncode(v).replace(/[&=+#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
      return pairs.length ? `?${pairs.join('&')}` : '';
    });
}

/** Small request bodies: none, bytes, JSON. */
export const smallBody = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
  fc.json({ maxDepth: 3 }).map((j) => Buffer.from(j)),
);
