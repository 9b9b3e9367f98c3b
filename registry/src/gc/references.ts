// What a stored manifest points at, read leniently. The push-time parser (storage/manifest.ts) rejects schema1 and
// anything today's rules refuse, but a collector that under-reads a manifest deletes blobs still in use: here every
// config, layer, fsLayer and index child with a digest counts, whatever else the document holds.
import { DigestError, parseDigest, type Digest } from '../storage/digest.js';
import { storedMediaType } from '../storage/manifest.js';

export interface Reference {
  digest: Digest;
  /** As the manifest declares it; schema1 layers declare none. */
  size?: number;
  /** os/architecture[/variant], for an index child that names its platform. */
  platform?: string;
}

export interface ManifestReferences {
  mediaType: string;
  /** config, layers and schema1 fsLayers: blobs the manifest needs. */
  blobs: Reference[];
  /** Children of an index. */
  manifests: Reference[];
  /** The manifest this one refers to (OCI 1.1 referrers); a weak link that keeps nothing alive. */
  subject?: Digest;
}

export class UnreadableManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableManifestError';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A digest this registry can store, or undefined. A reference it cannot parse (an unknown algorithm) names no blob
 * the collector could ever sweep, so dropping it loses nothing.
 */
function digestOf(value: unknown): Digest | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return parseDigest(value);
  } catch (err) {
    if (err instanceof DigestError) return undefined;
    throw err;
  }
}

function platformOf(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.os !== 'string' || typeof value.architecture !== 'string') return undefined;
  return [value.os, value.architecture, ...(typeof value.variant === 'string' ? [value.variant] : [])].join('/');
}

function reference(value: unknown, digestKey: string): Reference | undefined {
  if (!isObject(value)) return undefined;
  const digest = digestOf(value[digestKey]);
  if (!digest) return undefined;
  const platform = platformOf(value.platform);
  return {
    digest,
    ...(typeof value.size === 'number' && { size: value.size }),
    ...(platform !== undefined && { platform }),
  };
}

function references(list: unknown, digestKey = 'digest'): Reference[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => reference(item, digestKey) ?? []);
}

/** Throws UnreadableManifestError when the bytes are not a JSON object. */
export function manifestReferences(content: Buffer): ManifestReferences {
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new UnreadableManifestError(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw new UnreadableManifestError('not a JSON object');
  const config = reference(json.config, 'digest');
  const subject = isObject(json.subject) ? digestOf(json.subject.digest) : undefined;
  return {
    mediaType: storedMediaType(content),
    blobs: [...(config ? [config] : []), ...references(json.layers), ...references(json.fsLayers, 'blobSum')],
    manifests: references(json.manifests),
    ...(subject && { subject }),
  };
}
