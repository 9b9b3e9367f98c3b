// Generated manifest PUTs, every one invalid by construction: arbitrary JSON, manifest-shaped objects with random
// fields, real stored manifests (OCI and Docker, images and indexes) each broken by one mutation, random bytes,
// empty and oversized bodies, under seeded tags (which must keep pointing where they did), new tags and digests.
// Each answer is a 4xx with the OCI error body; after the run nothing stored has changed.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { checkAnswer, describe as describeRequest } from './answer.js';
import { parseReference } from '../../../registry/src/storage/reference.js';
import { badTag, headerText, pathEncode, randomDigest, validName, validTag } from './inputs.js';
import { rawRequest, type RawRequest } from './raw-http.js';
import { expectIntact, startFuzzTarget, stopFuzzTarget, type FuzzTarget } from './target.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface StoredManifest {
  name: string;
  mediaType: string;
  body: Buffer;
}

const MANIFEST_LIMIT = 4 * 1024 * 1024;
const OVERSIZED = 'oversized manifest, bytes over the limit: ';

/** The body to send: a marker for an oversized manifest becomes that manifest, anything else goes as it is. */
function materialize(body: Buffer): Buffer {
  const text = body.toString('latin1');
  if (!text.startsWith(OVERSIZED)) return body;
  return Buffer.from(JSON.stringify({ schemaVersion: 2, annotations: { pad: 'x'.repeat(MANIFEST_LIMIT + Number(text.slice(OVERSIZED.length))) } }));
}
const MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The descriptors of a manifest (config, layers, index children, subject), as mutable objects. */
function descriptorsOf(manifest: JsonObject): JsonObject[] {
  const list = [manifest.config, ...(Array.isArray(manifest.layers) ? manifest.layers : []), ...(Array.isArray(manifest.manifests) ? manifest.manifests : [])];
  return list.filter((d): d is JsonObject => typeof d === 'object' && d !== null && !Array.isArray(d));
}

/**
 * One change that makes a valid manifest invalid, whatever else it holds: applied to a parsed copy, returning the
 * body to send. Changes that could leave it valid (whitespace, reordered keys, a new annotation) are not here.
 */
const mutations = fc.oneof(
  fc.tuple(fc.nat(), randomDigest.filter((d) => /^sha256:[0-9a-f]{64}$/.test(d))).map(([i, digest]) => (m: JsonObject) => {
    const descriptors = descriptorsOf(m);
    (descriptors[i % descriptors.length] as JsonObject).digest = digest;
    return JSON.stringify(m);
  }),
  fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string')).map(([i, value]) => (m: JsonObject) => {
    (descriptorsOf(m)[i % descriptorsOf(m).length] as JsonObject).digest = value as Json;
    return JSON.stringify(m);
  }),
  fc.tuple(fc.nat(), fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true, noNaN: true }), fc.string(), fc.constant(null))).map(([i, size]) => (m: JsonObject) => {
    (descriptorsOf(m)[i % descriptorsOf(m).length] as JsonObject).size = size;
    return JSON.stringify(m);
  }),
  fc.tuple(fc.nat(), fc.constantFrom('mediaType', 'digest', 'size')).map(([i, key]) => (m: JsonObject) => {
    const descriptors = descriptorsOf(m);
    delete (descriptors[i % descriptors.length] as JsonObject)[key];
    return JSON.stringify(m);
  }),
  fc.jsonValue({ maxDepth: 1 }).filter((v) => v !== 2).map((version) => (m: JsonObject) => JSON.stringify({ ...m, schemaVersion: version as Json })),
  // No config, or no schemaVersion; a key the manifest lacks goes to null. (An OCI image without layers and an index
  // without manifests are valid to distribution 2.8 and to this registry alike, so those keys are not removed.)
  fc.constantFrom('config', 'schemaVersion').map((key) => (m: JsonObject) => {
    if (key in m) delete m[key];
    else m[key] = null;
    return JSON.stringify(m);
  }),
  fc.oneof(fc.jsonValue({ maxDepth: 1 }).filter((v) => v !== null && !Array.isArray(v)), fc.constant({})).map((value) => (m: JsonObject) => {
    if ('layers' in m) m.layers = value as Json;
    else m.manifests = value as Json;
    return JSON.stringify(m);
  }),
  fc.nat().map((cut) => (m: JsonObject) => {
    // Any strict prefix of a JSON object's text is not JSON.
    const text = JSON.stringify(m);
    return text.slice(0, cut % text.length);
  }),
  fc.constantFrom('\uFEFF', '[', 'x', '\u0000').map((prefix) => (m: JsonObject) => `${prefix}${JSON.stringify(m)}`),
);

describe('fuzz: generated invalid manifests at PUT /v2/<name>/manifests/<reference>', function () {
  this.timeout(120_000);
  let target: FuzzTarget | undefined;
  const stored: StoredManifest[] = [];

  before(async () => {
    const t = await startFuzzTarget('manifests');
    target = t;
    for (const [name, tags] of Object.entries(t.seeds.tags)) {
      for (const tag of tags) {
        const res = await t.client.request('GET', `/v2/${name}/manifests/${tag}`, { headers: { accept: MEDIA_TYPES.join(', ') } });
        stored.push({ name, mediaType: res.headers.get('content-type') as string, body: Buffer.from(await res.arrayBuffer()) });
      }
    }
  });
  after(() => stopFuzzTarget(target));

  function puts(t: FuzzTarget) {
    const seededTag = fc.constantFrom(...Object.entries(t.seeds.tags).flatMap(([name, tags]) => tags.map((tag) => ({ name, reference: tag }))));
    const mutated = fc.tuple(fc.constantFrom(...stored), mutations).map(([manifest, mutate]) => ({
      name: manifest.name,
      contentType: manifest.mediaType,
      body: Buffer.from(mutate(JSON.parse(manifest.body.toString('utf8')) as JsonObject)),
    }));
    const shaped = fc
      .record({
        schemaVersion: fc.oneof(fc.constant(2), fc.jsonValue({ maxDepth: 0 })),
        mediaType: fc.oneof(fc.constantFrom(...MEDIA_TYPES), fc.string()),
        config: fc.jsonValue({ maxDepth: 2 }),
        layers: fc.jsonValue({ maxDepth: 2 }),
        manifests: fc.array(fc.record({ mediaType: fc.constantFrom(...MEDIA_TYPES), digest: randomDigest, size: fc.integer() }), { maxLength: 2 }),
      }, { requiredKeys: [] })
      // An empty index (no config, no layers, no or no children) is valid, so it is not generated.
      .filter((m) => !(m.schemaVersion === 2 && (m.manifests === undefined || m.manifests.length === 0) && !('config' in m) && !('layers' in m)))
      .map((m) => Buffer.from(JSON.stringify(m)));
    const garbage = fc.oneof(
      fc.json({ maxDepth: 4 }).map((j) => Buffer.from(j)),
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      fc.constant(Buffer.alloc(0)),
      // Over the 4 MiB limit, built when sent (OVERSIZED + extra bytes) so a failure report stays readable.
      fc.integer({ min: 1, max: 4096 }).map((extra) => Buffer.from(`${OVERSIZED}${extra}`)),
    );
    const freeTarget = fc.record({ name: fc.oneof(fc.constantFrom(...t.seeds.names), validName), reference: fc.oneof(validTag, randomDigest) });
    return fc.oneof(
      fc.tuple(fc.oneof(seededTag, freeTarget), mutated, fc.boolean()).map(([where, m, ownName]) => ({ ...where, ...(ownName && { name: m.name }), contentType: m.contentType, body: m.body })),
      fc.tuple(fc.oneof(seededTag, freeTarget), fc.oneof(shaped, garbage), fc.oneof(fc.constantFrom(...MEDIA_TYPES), headerText(60))).map(([where, body, contentType]) => ({ ...where, contentType, body })),
      // By digest: the body's own digest (so only the content is wrong) or another one.
      fc.tuple(fc.constantFrom(...t.seeds.names), mutated).map(([name, m]) => ({ name, reference: sha256(m.body), contentType: m.contentType, body: m.body })),
    );
  }

  it('answers every invalid manifest with a 4xx and the OCI error body, and stores none of them', async () => {
    const t = target as FuzzTarget;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(puts(t), async ({ name, reference, contentType, body: spec }) => {
        const body = materialize(spec);
        const req: RawRequest = {
          method: 'PUT',
          target: `/v2/${pathEncode(name)}/manifests/${pathEncode(reference)}`,
          headers: [['Content-Type', contentType], ['Content-Length', String(body.length)]],
          body,
        };
        const outcome = await rawRequest(t.url, req);
        const found = checkAnswer(req, outcome);
        if (outcome.kind === 'response' && outcome.response.status < 400) throw new Error(`stored (${outcome.response.status}): ${describeRequest(req)}`);
        for (const code of found) codes.set(code, (codes.get(code) ?? 0) + 1);
      }),
      { seed: 4_242, numRuns: 800 },
    );
    for (const code of ['MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'DIGEST_INVALID', 'SIZE_INVALID']) {
      expect(codes.get(code) ?? 0, `answers with ${code}`).to.be.greaterThan(0);
    }
  });

  it('answers GET and HEAD of a reference that is neither a tag nor a digest 404 MANIFEST_UNKNOWN, and PUT of one 400 (OCI conformance)', async () => {
    const t = target as FuzzTarget;
    // A "/" makes another path (no route takes it), not another reference.
    const invalid = fc.oneof(badTag, randomDigest).filter((reference) => {
      if (reference.includes('/')) return false;
      try {
        parseReference(reference);
        return false;
      } catch {
        return reference !== '';
      }
    });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...t.seeds.names), invalid, fc.constantFrom('GET', 'HEAD', 'PUT'), async (name, reference, method) => {
        const body = method === 'PUT' ? Buffer.from('{"schemaVersion":2}') : undefined;
        const req: RawRequest = {
          method,
          target: `/v2/${pathEncode(name)}/manifests/${pathEncode(reference)}`,
          headers: body ? [['Content-Type', MEDIA_TYPES[0] as string], ['Content-Length', String(body.length)]] : [],
          ...(body && { body }),
        };
        const outcome = await rawRequest(t.url, req);
        const codes = checkAnswer(req, outcome);
        const status = outcome.kind === 'response' ? outcome.response.status : 0;
        if (method === 'PUT') {
          if (status !== 400 || !codes.every((code) => code === 'TAG_INVALID' || code === 'DIGEST_INVALID')) throw new Error(`answered ${status} ${codes.join(',')}: ${describeRequest(req)}`);
        } else if (status !== 404 || (method === 'GET' && codes.join() !== 'MANIFEST_UNKNOWN')) {
          throw new Error(`answered ${status} ${codes.join(',')}: ${describeRequest(req)}`);
        }
      }),
      { seed: 1_313, numRuns: 200 },
    );
  });

  it('leaves the process up, every seeded tag where it was and every seeded image pulling intact', async () => {
    await expectIntact(target as FuzzTarget);
  });
});
