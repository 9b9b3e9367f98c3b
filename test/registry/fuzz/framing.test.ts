// Generated HTTP that is broken below the API: Content-Length values that are not numbers or disagree, chunked
// bodies with bad chunk sizes, Transfer-Encoding with Content-Length, control characters and bare line feeds in
// headers, bad header names, bodies cut short, bytes after a complete request, bad request lines, at every route.
// None of it may crash the registry, reach storage, or get a 5xx; and, as every answer of this registry must,
// the refusal should carry the API version header and the OCI error body.
import fc from 'fast-check';
import { checkAnswer, describe as describeRequest } from './answer.js';
import { headerText } from './inputs.js';
import { rawRequest, type RawRequest } from './raw-http.js';
import { expectIntact, startFuzzTarget, stopFuzzTarget, type FuzzTarget, type Seeds } from './target.js';

interface Fault {
  label: string;
  apply(req: RawRequest): RawRequest;
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b));

const withHeaders = (req: RawRequest, headers: [string, string][], body?: Buffer): RawRequest => ({ ...req, headers: [...req.headers, ...headers], ...(body && { body }) });

const faults: fc.Arbitrary<Fault> = fc.oneof(
  fc
    .tuple(fc.oneof(fc.constantFrom('abc', '-1', ' 5x', '5 5', '0x10', '1e3', '+5', '99999999999999999999999'), headerText(12).filter((v) => !/^\s*\d*\s*$/.test(v))), bytes(0, 64))
    .map(([value, body]) => ({ label: `Content-Length: ${value}`, apply: (req: RawRequest) => withHeaders(req, [['Content-Length', value]], body) })),
  fc
    .tuple(fc.nat(64), fc.nat(64), bytes(0, 64))
    .filter(([a, b]) => a !== b)
    .map(([a, b, body]) => ({ label: `Content-Length ${a} and ${b}`, apply: (req: RawRequest) => withHeaders(req, [['Content-Length', String(a)], ['Content-Length', String(b)]], body) })),
  bytes(1, 64).map((body) => ({
    label: 'Transfer-Encoding: chunked with Content-Length',
    apply: (req: RawRequest) => withHeaders(req, [['Transfer-Encoding', 'chunked'], ['Content-Length', String(body.length)]], Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])),
  })),
  fc.tuple(fc.constantFrom('zz', '-1', '1 1', 'ffffffffffffffffffff', ''), bytes(0, 32)).map(([size, body]) => ({
    label: `chunk size "${size}"`,
    apply: (req: RawRequest) => withHeaders(req, [['Transfer-Encoding', 'chunked']], Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])),
  })),
  fc.constantFrom('gzip', 'chunked, gzip', 'identity', 'chunked, chunked', 'x').map((te) => ({
    label: `Transfer-Encoding: ${te}`,
    apply: (req: RawRequest) => withHeaders(req, [['Transfer-Encoding', te]], Buffer.from('0\r\n\r\n')),
  })),
  fc.tuple(fc.constantFrom('\u0000', '\u0001', '\u007f', '\r', '\n', '\r\n '), headerText(10)).map(([bad, text]) => ({
    label: `header value with ${JSON.stringify(bad)}`,
    apply: (req: RawRequest) => withHeaders(req, [['X-Broken', `${text}${bad}${text}`]]),
  })),
  fc.constantFrom('Bad Header', 'X:Y', '(x)', '', 'X\u0000Y', 'Ä').map((name) => ({ label: `header name ${JSON.stringify(name)}`, apply: (req: RawRequest) => withHeaders(req, [[name, 'value']]) })),
  fc.tuple(bytes(0, 256), fc.integer({ min: 1, max: 1_000_000 })).map(([body, missing]) => ({
    label: `body cut short by ${missing} bytes`,
    apply: (req: RawRequest): RawRequest => ({ ...withHeaders(req, [['Content-Length', String(body.length + missing)]], body), ending: 'truncate' }),
  })),
  fc.tuple(bytes(0, 64), fc.oneof(bytes(1, 64), headerText(40).filter((t) => t.length > 0).map((t) => Buffer.from(t)))).map(([body, garbage]) => ({
    label: `${garbage.length} bytes of garbage after the request`,
    apply: (req: RawRequest): RawRequest => ({ ...withHeaders(req, [['Content-Length', String(body.length)]]), body: Buffer.concat([body, garbage]) }),
  })),
  fc.constantFrom('HTTP/2.0', 'HTTP/1.1x', 'HTTP/9', 'http/1.1', '').map((version) => ({ label: `request line version "${version}"`, apply: (req: RawRequest) => ({ ...req, version }) })),
  fc.constantFrom('get', 'FOO', 'G ET', 'GET\u0000').map((method) => ({ label: `method "${method}"`, apply: (req: RawRequest) => ({ ...req, method }) })),
  fc.constantFrom(' ', '\u0080', '\u00ff', '\u0000', '#').map((raw) => ({ label: `raw ${JSON.stringify(raw)} in the path`, apply: (req: RawRequest) => ({ ...req, target: `${req.target}a${raw}b` }) })),
);

/** One request per route, none of which could change what is stored even if its framing were fine. */
function requests(seeds: Seeds): RawRequest[] {
  const blob = seeds.blobs[0] as string;
  const upload = `/v2/${seeds.uploadName}/blobs/uploads/${seeds.uploadUuid}`;
  return [
    { method: 'GET', target: '/v2/', headers: [] },
    { method: 'GET', target: '/v2/_catalog?n=2', headers: [] },
    { method: 'GET', target: '/v2/app/tags/list', headers: [] },
    { method: 'GET', target: '/v2/app/manifests/v1', headers: [['Accept', 'application/vnd.oci.image.manifest.v1+json']] },
    { method: 'HEAD', target: `/v2/app/blobs/${blob}`, headers: [] },
    { method: 'GET', target: `/v2/app/blobs/${blob}`, headers: [['Range', 'bytes=0-3']] },
    { method: 'GET', target: `/v2/app/referrers/${seeds.manifests[0] as string}`, headers: [] },
    { method: 'PUT', target: '/v2/app/manifests/framing', headers: [['Content-Type', 'application/vnd.oci.image.manifest.v1+json']] },
    { method: 'DELETE', target: '/v2/app/manifests/framing', headers: [] },
    { method: 'POST', target: '/v2/framing/blobs/uploads/', headers: [] },
    { method: 'POST', target: `/v2/framing/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`, headers: [] },
    { method: 'PATCH', target: upload, headers: [['Content-Type', 'application/octet-stream']] },
    { method: 'PUT', target: `${upload}?digest=sha256:${'0'.repeat(64)}`, headers: [] },
    { method: 'GET', target: upload, headers: [] },
  ];
}

describe('fuzz: malformed HTTP framing at every route', function () {
  this.timeout(120_000);
  let target: FuzzTarget | undefined;

  before(async () => {
    target = await startFuzzTarget('framing');
  });
  after(() => stopFuzzTarget(target));

  const broken = (t: FuzzTarget) => fc.tuple(fc.constantFrom(...requests(t.seeds)), faults).map(([req, fault]) => ({ fault: fault.label, req: fault.apply(req) }));

  it('never answers broken HTTP with a 5xx, and never closes a connection without answering', async () => {
    const t = target as FuzzTarget;
    await fc.assert(
      fc.asyncProperty(broken(t), async ({ req }) => {
        const outcome = await rawRequest(t.url, req);
        if (outcome.kind === 'closed') throw new Error(`no answer: ${describeRequest(req)}`);
        if (outcome.response.status >= 500) throw new Error(`answered ${outcome.response.status}: ${describeRequest(req)}`);
      }),
      { seed: 8_080, numRuns: 400 },
    );
  });

  it('leaves the process up, the stored tree unchanged and every seeded image pulling intact', async () => {
    await expectIntact(target as FuzzTarget);
  });

  it('answers broken HTTP with the API version header and the OCI error body, as every other refusal', async () => {
    const t = target as FuzzTarget;
    await fc.assert(
      fc.asyncProperty(broken(t), async ({ req }) => {
        checkAnswer(req, await rawRequest(t.url, req));
      }),
      { seed: 8_080, numRuns: 400 },
    );
  });
});
