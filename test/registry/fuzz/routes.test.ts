// Generated requests at every route with every method: random names, references, digests, upload ids, headers
// (Accept, Content-Type, Range, Content-Range, If-None-Match, Authorization), queries and small bodies, against
// the real registry process seeded with images. Every answer is a 2xx/3xx or a 4xx with the OCI error body, reads
// of real content return the right bytes, and after the run nothing stored has changed.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { checkAnswer } from './answer.js';
import { digests, headers, names, pathEncode, query, references, smallBody, uploadIds } from './inputs.js';
import { rawRequest, type RawRequest, type RawResponse } from './raw-http.js';
import { expectIntact, startFuzzTarget, stopFuzzTarget, type FuzzTarget, type Seeds } from './target.js';

type Route = 'base' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'uploads' | 'upload' | 'referrers' | 'unrouted';

interface Call {
  method: string;
  route: Route;
  name: string;
  second: string;
  query: string;
  headers: [string, string][];
  body: Buffer | undefined;
}

/** Where a request goes; a conditional read also names the validator it sends. */
interface Target {
  route: Route;
  method: string;
  name: string;
  second: string;
  ifNoneMatch?: string;
}

function path(call: Call): string {
  const name = pathEncode(call.name);
  const second = pathEncode(call.second);
  switch (call.route) {
    case 'base':
      return call.second === '' ? '/v2/' : '/v2';
    case 'catalog':
      return '/v2/_catalog';
    case 'tags':
      return `/v2/${name}/tags/list`;
    case 'manifest':
      return `/v2/${name}/manifests/${second}`;
    case 'blob':
      return `/v2/${name}/blobs/${second}`;
    case 'uploads':
      return `/v2/${name}/blobs/uploads/`;
    case 'upload':
      return `/v2/${name}/blobs/uploads/${second}`;
    case 'referrers':
      return `/v2/${name}/referrers/${second}`;
    case 'unrouted':
      return `/${name}/${second}`;
  }
}

const ANY_METHOD = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'];

/** A route's own methods most of the time, so requests get past method routing; any method otherwise. */
function method(own: string[]) {
  return fc.oneof({ arbitrary: fc.constantFrom(...own), weight: 4 }, { arbitrary: fc.constantFrom(...ANY_METHOD), weight: 1 });
}

function calls(seeds: Seeds) {
  const route: fc.Arbitrary<Target> = fc.oneof(
    fc.record({ route: fc.constantFrom<Route>('base', 'catalog'), method: method(['GET', 'HEAD']), name: fc.constant(''), second: fc.constantFrom('', 'x') }),
    fc.record({ route: fc.constant<Route>('tags'), method: method(['GET']), name: names(seeds), second: fc.constant('') }),
    fc.record({ route: fc.constant<Route>('manifest'), method: method(['GET', 'HEAD', 'PUT', 'DELETE']), name: names(seeds), second: references(seeds) }),
    fc.record({ route: fc.constant<Route>('blob'), method: method(['GET', 'HEAD', 'DELETE']), name: names(seeds), second: digests(seeds) }),
    // Reads of stored blobs, so Range, If-None-Match and Accept meet real content.
    fc
      .record({ route: fc.constant<Route>('blob'), method: fc.constantFrom('GET', 'HEAD'), name: fc.constantFrom(...seeds.names), second: fc.constantFrom(...seeds.blobs), conditional: fc.boolean() })
      .map(({ conditional, ...read }) => ({ ...read, ...(conditional && { ifNoneMatch: `"${read.second}"` }) })),
    fc.record({ route: fc.constant<Route>('uploads'), method: method(['POST']), name: names(seeds), second: fc.constant('') }),
    fc.record({ route: fc.constant<Route>('upload'), method: method(['GET', 'PATCH', 'PUT', 'DELETE']), name: names(seeds), second: uploadIds(seeds) }),
    fc.record({ route: fc.constant<Route>('referrers'), method: method(['GET']), name: names(seeds), second: digests(seeds) }),
    fc.record({ route: fc.constant<Route>('unrouted'), method: fc.constantFrom(...ANY_METHOD), name: fc.string({ unit: 'grapheme', maxLength: 30 }), second: fc.string({ maxLength: 20 }) }),
  );
  const seeded = new Set([...seeds.manifests, ...seeds.blobs, ...Object.values(seeds.tags).flat()]);
  return fc
    .record({ target: route, query: query(seeds), headers: headers(seeds), body: smallBody })
    .map(({ target: { ifNoneMatch, ...target }, headers, ...rest }): Call => ({
      ...target,
      ...rest,
      headers: ifNoneMatch === undefined ? headers : [...headers.filter(([k]) => k !== 'If-None-Match'), ['If-None-Match', ifNoneMatch]],
    }))
    // A DELETE of seeded content would be a valid request that changes storage: not bad input, so not generated.
    .filter((call) => !(call.method === 'DELETE' && seeds.names.includes(call.name) && seeded.has(call.second)));
}

function toRequest(call: Call): RawRequest {
  const headers: [string, string][] = [...call.headers];
  if (call.body) headers.push(['Content-Length', String(call.body.length)]);
  return { method: call.method, target: `${path(call)}${call.query}`, headers, ...(call.body && { body: call.body }) };
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

describe('fuzz: generated requests at every route and method', function () {
  this.timeout(120_000);
  let target: FuzzTarget | undefined;
  const blobs = new Map<string, Buffer>();

  before(async () => {
    target = await startFuzzTarget('routes');
  });
  after(() => stopFuzzTarget(target));

  /** A served read must carry the right bytes: blobs by digest (whole or the requested range), manifests by their header. */
  async function expectRightBytes(call: Call, res: RawResponse): Promise<void> {
    const t = target as FuzzTarget;
    if (call.method !== 'GET') return;
    if (call.route === 'blob' && res.status === 200 && call.second.startsWith('sha256:')) {
      expect(sha256(res.body), `GET ${call.name} blob ${call.second}`).to.equal(call.second);
    }
    if (call.route === 'blob' && res.status === 206) {
      let whole = blobs.get(call.second);
      if (!whole) {
        whole = Buffer.from(await (await t.client.request('GET', `/v2/${call.name}/blobs/${call.second}`)).arrayBuffer());
        blobs.set(call.second, whole);
      }
      const [, start, end, total] = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '') ?? [];
      expect(Number(total), 'Content-Range total').to.equal(whole.length);
      expect(res.body.equals(whole.subarray(Number(start), Number(end) + 1)), `range ${start}-${end} of ${call.second}`).to.equal(true);
    }
    if (call.route === 'manifest' && res.status === 200) {
      expect(sha256(res.body)).to.equal(res.headers.get('docker-content-digest'));
    }
  }

  it('answers every generated request with a 2xx/3xx or a 4xx carrying the OCI error body, never a 5xx', async () => {
    const t = target as FuzzTarget;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(calls(t.seeds), async (call) => {
        const req = toRequest(call);
        const outcome = await rawRequest(t.url, req);
        checkAnswer(req, outcome);
        if (outcome.kind === 'response') {
          statuses.set(outcome.response.status, (statuses.get(outcome.response.status) ?? 0) + 1);
          await expectRightBytes(call, outcome.response);
        }
      }),
      { seed: 20_261_124, numRuns: 3000 },
    );
    // The generators reach past validation into real content, not just the 400s.
    for (const status of [200, 202, 204, 206, 304, 400, 404, 405, 416]) expect(statuses.get(status) ?? 0, `answers with status ${status}`).to.be.greaterThan(0);
  });

  it('leaves the process up, the stored tree unchanged and every seeded image pulling intact', async () => {
    await expectIntact(target as FuzzTarget);
  });
});
