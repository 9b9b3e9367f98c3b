// What a client is told when the mirror could not get content from its upstream, in the API's error table's terms.
import { FlightTimeoutError } from '../coord/single-flight.js';
import { RegistryError } from '../errcode.js';
import { UpstreamError } from './upstream-client.js';

/** The registry error for a failed upstream request; anything that is not an UpstreamError passes through. */
export function upstreamRefusal(err: unknown, kind: 'blob' | 'manifest', subject: string): unknown {
  if (err instanceof FlightTimeoutError) return new RegistryError('UPSTREAM_FAILED', `${subject} is not in the mirror yet: ${err.message}; retry`);
  if (!(err instanceof UpstreamError)) return err;
  if (err.status === 404) {
    return new RegistryError(kind === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', `${subject} is not in the mirror, and the upstream does not have it (${err.message})`);
  }
  if (err.status === 429) {
    return new RegistryError('TOO_MANY_REQUESTS', `${subject} is not in the mirror, and the upstream is limiting our pulls (${err.message}): retry later`);
  }
  return new RegistryError('UPSTREAM_FAILED', `${subject} is not in the mirror, and ${err.message}`);
}
