// Generated sequences of requests on one blob upload, checked against a model of what the upload holds: chunks with
// right, wrong, malformed and missing Content-Range, bodies cut short (Content-Length larger than what is sent,
// then the client hangs up) and bodies longer than their Content-Length, finishing PUTs with wrong, malformed and
// missing digests, status GETs and cancels. A refused request changes nothing, an accepted chunk adds exactly its
// bytes, a broken body keeps at most what was sent (and GET says how much), a wrong digest discards the upload.
// No sequence ever stores a blob.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { checkAnswer, describe as describeRequest } from './answer.js';
import { headerText } from './inputs.js';
import { rawRequest, type RawRequest, type RawResponse } from './raw-http.js';
import { expectIntact, startFuzzTarget, stopFuzzTarget, type FuzzTarget } from './target.js';

interface Model {
  /** Bytes the upload holds; undefined once it is finished or cancelled. */
  size: number | undefined;
  /** Every byte the upload holds, so a digest that is almost right can be made. */
  content: Buffer;
}

interface Real {
  url: string;
  /** Path of the upload, from the POST's Location. */
  path: string;
}

type Command = fc.AsyncCommand<Model, Real>;

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function rangeOf(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

/** Sends req; throws unless the answer is well formed and has the expected status (and error code, for a 4xx). */
async function send(real: Real, req: RawRequest, status: number, code?: string): Promise<RawResponse> {
  const outcome = await rawRequest(real.url, req);
  const codes = checkAnswer(req, outcome);
  const res = (outcome as { response: RawResponse }).response;
  if (res.status !== status || (code !== undefined && !codes.includes(code))) {
    throw new Error(`expected ${status} ${code ?? ''}, got ${res.status} ${res.body.toString('utf8').slice(0, 300)}\n  request: ${describeRequest(req)}`);
  }
  return res;
}

function expectRange(res: RawResponse, size: number, req: RawRequest): void {
  expect(res.headers.get('range'), describeRequest(req)).to.equal(rangeOf(size));
}

/**
 * Asks the registry where the upload stands (the client's way to resume) and returns the size it reports. Only for
 * an upload known to hold a byte: "0-0" is the Range of an empty upload and of a one-byte upload alike.
 */
async function status(real: Real): Promise<number> {
  const req: RawRequest = { method: 'GET', target: real.path, headers: [] };
  const res = await send(real, req, 204);
  const [, end] = /^0-(\d+)$/.exec(res.headers.get('range') ?? '') ?? [];
  expect(end, 'Range of the upload').to.not.equal(undefined);
  return Number(end) + 1;
}

type RangeMode = { kind: 'none' } | { kind: 'right' } | { kind: 'shifted'; by: number } | { kind: 'long' } | { kind: 'garbage'; text: string };

function contentRange(mode: RangeMode, start: number, length: number): [string, string][] {
  switch (mode.kind) {
    case 'none':
      return [];
    case 'right':
      return [['Content-Range', `${start}-${start + length - 1}`]];
    case 'shifted':
      return [['Content-Range', `${Math.max(0, start + mode.by)}-${Math.max(0, start + mode.by) + length - 1}`]];
    case 'long':
      return [['Content-Range', `${start}-${start + length}`]];
    case 'garbage':
      return [['Content-Range', mode.text]];
  }
}

/** Whether a Content-Range is refused whatever the upload holds (a shift of 0 from an empty upload is right). */
function refused(mode: RangeMode, start: number): boolean {
  if (mode.kind === 'shifted') return Math.max(0, start + mode.by) !== start;
  return mode.kind === 'long' || mode.kind === 'garbage';
}

class Patch implements Command {
  constructor(
    readonly chunk: Buffer,
    readonly range: RangeMode,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const start = model.size ?? 0;
    const req: RawRequest = {
      method: 'PATCH',
      target: real.path,
      headers: [['Content-Type', 'application/octet-stream'], ['Content-Length', String(this.chunk.length)], ...contentRange(this.range, start, this.chunk.length)],
      body: this.chunk,
    };
    if (model.size === undefined) {
      await send(real, req, 404, 'BLOB_UPLOAD_UNKNOWN');
      return;
    }
    if (refused(this.range, model.size)) {
      expectRange(await send(real, req, 416, 'RANGE_INVALID'), model.size, req);
      return;
    }
    const res = await send(real, req, 202);
    model.size += this.chunk.length;
    model.content = Buffer.concat([model.content, this.chunk]);
    expectRange(res, model.size, req);
    expect(new URL(res.headers.get('location') as string, real.url).pathname).to.equal(real.path);
  }
  toString = () => `PATCH ${this.chunk.length} bytes, range ${JSON.stringify(this.range)}`;
}

type Framing = { kind: 'cut'; missing: number } | { kind: 'overlong'; extra: Buffer };

/**
 * A chunk whose body does not match its Content-Length: cut short (the client hangs up before sending it all) or
 * followed by bytes that are not a request. Either way the HTTP layer ends the connection (its answer is
 * framing.test.ts's subject), the request may be aborted mid-write, and the upload keeps a prefix of what was
 * sent, never more than Content-Length: GET tells the client where to resume.
 */
class BrokenBody implements Command {
  constructor(
    readonly chunk: Buffer,
    readonly framing: Framing,
  ) {}
  check = (model: Readonly<Model>) => (model.size ?? 0) > 0;
  async run(model: Model, real: Real): Promise<void> {
    const before = model.size as number;
    const declared = this.framing.kind === 'cut' ? this.chunk.length + this.framing.missing : this.chunk.length;
    const req: RawRequest = {
      method: 'PATCH',
      target: real.path,
      headers: [['Content-Type', 'application/octet-stream'], ['Content-Length', String(declared)]],
      body: this.framing.kind === 'cut' ? this.chunk : Buffer.concat([this.chunk, this.framing.extra]),
      ...(this.framing.kind === 'cut' && { ending: 'truncate' as const }),
    };
    await rawRequest(real.url, req);
    const size = await status(real);
    expect(size, `after ${describeRequest(req)}`).to.be.within(before, before + this.chunk.length);
    model.content = Buffer.concat([model.content, this.chunk.subarray(0, size - before)]);
    model.size = size;
  }
  toString = () => `PATCH ${this.chunk.length} bytes, ${this.framing.kind === 'cut' ? `${this.framing.missing} promised bytes missing` : `followed by ${this.framing.extra.length} more`}`;
}

type DigestMode = { kind: 'missing' } | { kind: 'malformed'; text: string } | { kind: 'other'; hex: string } | { kind: 'almost' };

class Finish implements Command {
  constructor(
    readonly digest: DigestMode,
    readonly chunk: Buffer | undefined,
    readonly range: RangeMode,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const target = new URL(real.path, real.url);
    // "almost": the digest of what the upload would hold plus one byte, the closest a wrong digest gets.
    const value =
      this.digest.kind === 'malformed' ? this.digest.text
      : this.digest.kind === 'other' ? `sha256:${this.digest.hex}`
      : this.digest.kind === 'almost' ? sha256(Buffer.concat([model.content, this.chunk ?? Buffer.alloc(0), Buffer.from('!')]))
      : undefined;
    if (value !== undefined) target.searchParams.set('digest', value);
    const length = this.chunk?.length ?? 0;
    const rangeHeaders = length > 0 ? contentRange(this.range, model.size ?? 0, length) : [];
    const req: RawRequest = {
      method: 'PUT',
      target: `${target.pathname}${target.search}`,
      headers: [['Content-Type', 'application/octet-stream'], ['Content-Length', String(length)], ...rangeHeaders],
      ...(this.chunk && { body: this.chunk }),
    };
    const wellFormed = this.digest.kind === 'other' || this.digest.kind === 'almost';
    if (!wellFormed) {
      await send(real, req, 400, 'DIGEST_INVALID');
      return;
    }
    const badRange = rangeHeaders.length > 0 && refused(this.range, model.size ?? 0);
    if (model.size === undefined) {
      // A Content-Range that cannot be right for any upload is refused before the upload is looked up.
      const malformed = rangeHeaders.length > 0 && (this.range.kind === 'garbage' || this.range.kind === 'long');
      await send(real, req, malformed ? 416 : 404, malformed ? 'RANGE_INVALID' : 'BLOB_UPLOAD_UNKNOWN');
      return;
    }
    if (badRange) {
      await send(real, req, 416, 'RANGE_INVALID');
      return;
    }
    await send(real, req, 400, 'DIGEST_INVALID');
    // A digest mismatch discards the upload: nothing half-verified is kept.
    model.size = undefined;
    await send(real, { method: 'GET', target: real.path, headers: [] }, 404, 'BLOB_UPLOAD_UNKNOWN');
  }
  toString = () => `PUT digest ${JSON.stringify(this.digest)} with ${this.chunk?.length ?? 'no'} bytes, range ${JSON.stringify(this.range)}`;
}

class Status implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const req: RawRequest = { method: 'GET', target: real.path, headers: [] };
    if (model.size === undefined) {
      await send(real, req, 404, 'BLOB_UPLOAD_UNKNOWN');
      return;
    }
    expectRange(await send(real, req, 204), model.size, req);
  }
  toString = () => 'GET status';
}

class Cancel implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const req: RawRequest = { method: 'DELETE', target: real.path, headers: [] };
    await send(real, req, model.size === undefined ? 404 : 204, model.size === undefined ? 'BLOB_UPLOAD_UNKNOWN' : undefined);
    model.size = undefined;
  }
  toString = () => 'DELETE';
}

const chunk = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b));
const rangeMode: fc.Arbitrary<RangeMode> = fc.oneof(
  { arbitrary: fc.constant<RangeMode>({ kind: 'right' }), weight: 3 },
  { arbitrary: fc.constant<RangeMode>({ kind: 'none' }), weight: 2 },
  fc.integer({ min: -5, max: 5 }).filter((by) => by !== 0).map((by): RangeMode => ({ kind: 'shifted', by })),
  fc.constant<RangeMode>({ kind: 'long' }),
  // A letter first, so it can never parse as a range.
  headerText(20).map((text): RangeMode => ({ kind: 'garbage', text: `x${text}` })),
);
const digestMode: fc.Arbitrary<DigestMode> = fc.oneof(
  fc.constant<DigestMode>({ kind: 'almost' }),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b): DigestMode => ({ kind: 'other', hex: Buffer.from(b).toString('hex') })),
  fc.constant<DigestMode>({ kind: 'missing' }),
  fc.oneof(headerText(30), fc.constantFrom('sha256:', 'sha256:xyz', 'md5:d41d8cd98f00b204e9800998ecf8427e', 'sha256:' + 'A'.repeat(64))).map((text): DigestMode => ({ kind: 'malformed', text: text === '' ? ':' : text })),
);

const commands = [
  fc.tuple(chunk(1, 2048), rangeMode).map(([c, r]) => new Patch(c, r)),
  chunk(0, 0).map((c) => new Patch(c, { kind: 'none' })),
  fc.tuple(chunk(0, 4096), fc.integer({ min: 1, max: 100_000 })).map(([c, missing]) => new BrokenBody(c, { kind: 'cut', missing })),
  fc.tuple(chunk(1, 1024), chunk(1, 64)).map(([c, extra]) => new BrokenBody(c, { kind: 'overlong', extra })),
  fc.tuple(digestMode, fc.option(chunk(1, 1024), { nil: undefined }), rangeMode).map(([d, c, r]) => new Finish(d, c, r)),
  fc.constant(new Status()),
  fc.constant(new Cancel()),
];

describe('fuzz: generated request sequences on one blob upload, against a model', function () {
  this.timeout(120_000);
  let target: FuzzTarget | undefined;

  before(async () => {
    target = await startFuzzTarget('uploads');
  });
  after(() => stopFuzzTarget(target));

  it('every chunk, cut-short body, overlong body, finish, status and cancel does what the model says', async () => {
    const t = target as FuzzTarget;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('app', 'fuzz/uploads'), fc.commands(commands, { maxCommands: 10 }), async (name, cmds) => {
        const setup = async () => {
          const started = await t.client.request('POST', `/v2/${name}/blobs/uploads/`);
          expect(started.status).to.equal(202);
          const path = new URL(started.headers.get('location') as string, t.url).pathname;
          return { model: { size: 0, content: Buffer.alloc(0) } as Model, real: { url: t.url, path } };
        };
        await fc.asyncModelRun(setup, cmds);
      }),
      { seed: 31_337, numRuns: 500 },
    );
  });

  it('leaves the process up, no blob stored and every seeded image pulling intact', async () => {
    await expectIntact(target as FuzzTarget);
  });
});
