// Parsing of the request parts the API reads: pagination, Content-Range, Range, small bodies.
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../errcode.js';
import { clip } from '../storage/reference.js';
import type { ChunkRange } from '../storage/uploads.js';

/** `n` from the query: undefined when absent, else a non-negative integer no larger than max. */
export function pageSize(raw: string | string[] | undefined, fallback: number | undefined, max: number): number | undefined {
  if (raw === undefined) return fallback;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\d{1,9}$/.test(value)) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, got "${clip(String(value))}"`);
  }
  return Math.min(Number(value), max);
}

export function queryString(raw: string | string[] | undefined): string {
  if (raw === undefined) return '';
  return Array.isArray(raw) ? (raw[0] ?? '') : raw;
}

/** Content-Range of a PATCH: "<start>-<end>" as the OCI spec writes it, or "bytes <start>-<end>/<total>". */
export function parseContentRange(header: string | undefined, contentLength: string | undefined): ChunkRange | undefined {
  if (!header) return undefined;
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/.exec(header.trim());
  if (!match) {
    throw new RegistryError('RANGE_INVALID', `Content-Range "${clip(header)}" is not of the form <start>-<end>`);
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new RegistryError('RANGE_INVALID', `Content-Range ${header} ends before it starts`);
  if (contentLength !== undefined && Number(contentLength) !== end - start + 1) {
    throw new RegistryError('RANGE_INVALID', `Content-Range ${header} covers ${end - start + 1} bytes but Content-Length is ${contentLength}`);
  }
  return { start, end };
}

/** A single-range Range header of a blob GET, resolved against the blob size; undefined means the whole blob. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const unsatisfiable = () =>
    new RegistryError('RANGE_INVALID', `Range "${clip(header)}" cannot be served from a blob of ${size} bytes`).withHeaders({ 'Content-Range': `bytes */${size}` });
  if (!match || (match[1] === '' && match[2] === '')) throw unsatisfiable();
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw unsatisfiable();
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) throw unsatisfiable();
  return { start, end };
}

/**
 * How much of a refused body is read and dropped so the client, still sending, receives the refusal rather than a
 * reset connection; past it the connection is simply closed.
 */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads and drops the rest of a refused body, up to DRAIN_LIMIT in all; false when it gave up before the end. */
export async function drain(chunks: AsyncIterator<Buffer>, alreadyRead: number): Promise<boolean> {
  let read = alreadyRead;
  while (read <= DRAIN_LIMIT) {
    const next = await chunks.next();
    if (next.done) return true;
    read += next.value.length;
  }
  return false;
}

/** Reads a small body (a manifest) with a hard limit, refusing early when Content-Length already exceeds it. */
export async function readSmallBody(req: IncomingMessage, limit: number, tooLarge: () => RegistryError): Promise<Buffer> {
  const body = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    if (Number(declared) <= DRAIN_LIMIT) await drain(body, 0);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for (let next = await body.next(); !next.done; next = await body.next()) {
    total += next.value.length;
    if (total > limit) {
      await drain(body, total);
      throw tooLarge();
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, total);
}
