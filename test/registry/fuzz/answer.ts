// The property every fuzzed answer must have: no 5xx, the API version header, and for a 4xx the OCI error body
// with a code from the specs' lists. A violation is thrown as an Error naming the request, so fast-check reports
// (and shrinks) the input that produced it.
import { routePatterns } from '../../../registry/src/api/routes.js';
import type { RawOutcome, RawRequest } from './raw-http.js';

/**
 * The codes a client may see: the OCI distribution spec's table, and the Docker Registry HTTP API V2 codes that
 * distribution sends and the OCI table left out.
 */
const OCI_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
];
const DOCKER_V2_CODES = ['MANIFEST_UNVERIFIED', 'PAGINATION_NUMBER_INVALID', 'RANGE_INVALID', 'TAG_INVALID', 'UNAVAILABLE', 'UNKNOWN'];
/**
 * This registry's answer to a path no route matches. distribution answers those with a plain-text 404 (its router's
 * default), so there is no code to copy; the test admits NOT_FOUND for unrouted paths only.
 */
const UNROUTED_CODE = 'NOT_FOUND';
export const SPEC_CODES = new Set([...OCI_CODES, ...DOCKER_V2_CODES]);
const ROUTES = Object.values(routePatterns('/'));

/** Whether the path reaches an API route, read raw or percent-decoded (a bad escape counts as unrouted). */
function routed(target: string): boolean {
  const path = target.split('?')[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  return [path, decoded].every((p) => ROUTES.some((route) => route.test(p)));
}

export function describe(req: RawRequest): string {
  const body = req.body ? ` body ${req.body.length} bytes: ${JSON.stringify(req.body.subarray(0, 200).toString('latin1'))}` : '';
  return `${req.method} ${req.target} ${JSON.stringify(req.headers)}${body}${req.ending === 'truncate' ? ' (then half-closed)' : ''}`;
}

/** Throws unless the outcome is a well-formed answer; returns the parsed error codes of a 4xx (empty otherwise). */
export function checkAnswer(req: RawRequest, outcome: RawOutcome): string[] {
  const fail = (why: string): never => {
    throw new Error(`${why}\n  request: ${describe(req)}`);
  };
  if (outcome.kind === 'closed') return fail(`no answer, the connection closed after ${outcome.received.length} bytes`);
  const { status, headers, body } = outcome.response;
  const text = body.toString('utf8');
  if (status >= 500) fail(`answered ${status}: ${text.slice(0, 300)}`);
  if (headers.get('docker-distribution-api-version') !== 'registry/2.0') fail(`answered ${status} without Docker-Distribution-API-Version: ${text.slice(0, 300)}`);
  if (status < 400 || req.method === 'HEAD') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(`answered ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 300))}`);
  }
  const errors = (parsed as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return fail(`answered ${status} without an errors array: ${text.slice(0, 300)}`);
  const codes: string[] = [];
  for (const error of errors as { code?: unknown; message?: unknown }[]) {
    if (typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '') fail(`an error without a code and a message: ${text.slice(0, 300)}`);
    const code = error.code as string;
    if (!SPEC_CODES.has(code) && !(code === UNROUTED_CODE && status === 404 && !routed(req.target))) fail(`answered ${status} with code ${code}, not in the specs' lists`);
    codes.push(code);
  }
  return codes;
}
