// The one table of API errors, after distribution's registry/api/errcode: each descriptor carries its wire code,
// its HTTP status and a default message. Code throws RegistryError with a descriptor; api/errors.ts renders it.
// Nothing else picks an HTTP status for an error.

export interface ErrorDescriptor {
  /** The code clients see in {"errors":[{"code": ...}]}. */
  code: string;
  status: number;
  message: string;
}

export const ERRORS = {
  BLOB_UNKNOWN: { code: 'BLOB_UNKNOWN', status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { code: 'BLOB_UPLOAD_INVALID', status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { code: 'BLOB_UPLOAD_UNKNOWN', status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { code: 'DIGEST_INVALID', status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { code: 'MANIFEST_BLOB_UNKNOWN', status: 400, message: 'manifest references a blob unknown to this repository' },
  MANIFEST_INVALID: { code: 'MANIFEST_INVALID', status: 400, message: 'manifest invalid' },
  MANIFEST_TOO_LARGE: { code: 'SIZE_INVALID', status: 413, message: 'manifest is larger than the registry accepts' },
  MANIFEST_UNKNOWN: { code: 'MANIFEST_UNKNOWN', status: 404, message: 'manifest unknown' },
  NAME_INVALID: { code: 'NAME_INVALID', status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { code: 'NAME_UNKNOWN', status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { code: 'SIZE_INVALID', status: 400, message: 'provided length did not match content length' },
  RANGE_INVALID: { code: 'RANGE_INVALID', status: 416, message: 'invalid content range' },
  TAG_INVALID: { code: 'TAG_INVALID', status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { code: 'PAGINATION_NUMBER_INVALID', status: 400, message: 'invalid number of results requested' },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', status: 401, message: 'authentication required' },
  DENIED: { code: 'DENIED', status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { code: 'UNSUPPORTED', status: 405, message: 'the operation is unsupported' },
  MALFORMED_REQUEST: { code: 'UNSUPPORTED', status: 400, message: 'the request is not well-formed HTTP/1.1' },
  HEADERS_TOO_LARGE: { code: 'UNSUPPORTED', status: 431, message: 'request headers are larger than the registry accepts' },
  HEAD_TIMEOUT: { code: 'UNSUPPORTED', status: 408, message: 'the request line and headers did not arrive in time' },
  NOT_FOUND: { code: 'NOT_FOUND', status: 404, message: 'no such API endpoint' },
  TOO_MANY_REQUESTS: { code: 'TOOMANYREQUESTS', status: 429, message: 'too many requests' },
  UNAVAILABLE: { code: 'UNAVAILABLE', status: 503, message: 'service unavailable' },
  // 507 Insufficient Storage: unlike a 503, a retry cannot succeed until an operator frees space.
  STORAGE_FULL: { code: 'UNAVAILABLE', status: 507, message: "the registry's storage is full" },
  UPSTREAM_FAILED: { code: 'UNAVAILABLE', status: 502, message: 'the mirrored registry did not provide the content' },
  UNKNOWN: { code: 'UNKNOWN', status: 500, message: 'unknown error' },
} as const satisfies Record<string, ErrorDescriptor>;

export type ErrorName = keyof typeof ERRORS;

export class RegistryError extends Error {
  readonly descriptor: ErrorDescriptor;
  /** Response headers the error needs (Content-Range on a 416, Range on a failed chunk). */
  headers: Record<string, string> = {};
  constructor(
    name: ErrorName,
    message?: string,
    readonly detail?: unknown,
  ) {
    super(message ?? ERRORS[name].message);
    this.name = 'RegistryError';
    this.descriptor = ERRORS[name];
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }
}
