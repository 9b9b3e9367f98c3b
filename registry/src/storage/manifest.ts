// Manifest formats the registry stores: what each media type is, and the checks a manifest passes before it is
// stored. Pure functions over bytes; no storage here.
import { RegistryError } from '../errcode.js';
import { DigestError, parseDigest, type Digest } from './digest.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.dockerList, MEDIA_TYPES.ociIndex]);
/** Layers whose bytes live elsewhere (listed in `urls`), so the registry does not hold them. */
const FOREIGN_LAYER_TYPES = new Set<string>([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface Manifest {
  mediaType: string;
  kind: 'image' | 'index' | 'schema1';
  config?: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

export function isForeignLayer(d: Descriptor): boolean {
  return FOREIGN_LAYER_TYPES.has(d.mediaType);
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', `manifest invalid: ${message}`, detail);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw invalid(`${where} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, urls, artifactType, platform } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string') throw invalid(`${where}.digest must be a string`);
  let parsed: Digest;
  try {
    parsed = parseDigest(digest);
  } catch (err) {
    if (err instanceof DigestError) throw invalid(`${where}.digest: ${err.message}`);
    throw err;
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string'))) {
    throw invalid(`${where}.urls must be a list of strings`);
  }
  if (artifactType !== undefined && typeof artifactType !== 'string') throw invalid(`${where}.artifactType must be a string`);
  if (platform !== undefined && !isObject(platform)) throw invalid(`${where}.platform must be an object`);
  return {
    mediaType,
    digest: parsed,
    size,
    ...(urls !== undefined && { urls: urls as string[] }),
    ...(artifactType !== undefined && { artifactType }),
    ...(value.annotations !== undefined && { annotations: stringMap(value.annotations, `${where}.annotations`) }),
    ...(platform !== undefined && { platform: platform as Descriptor['platform'] }),
  };
}

function descriptors(value: unknown, where: string): Descriptor[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${where} must be a list`);
  return value.map((v, i) => descriptor(v, `${where}[${i}]`));
}

/** Decides the media type from the body's mediaType field and the request's Content-Type, as distribution does. */
function mediaTypeOf(json: Json, contentType: string | undefined): string {
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim();
  const fromHeader = header && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined;
  if (declared && fromHeader && declared !== fromHeader) {
    throw invalid(`the body's mediaType ${declared} does not match the Content-Type ${fromHeader}`);
  }
  if (declared ?? fromHeader) return (declared ?? fromHeader) as string;
  // OCI allows an image manifest or index without mediaType; tell them apart by shape.
  if (json.schemaVersion === 1) return MEDIA_TYPES.schema1Signed;
  if (Array.isArray(json.manifests)) return MEDIA_TYPES.ociIndex;
  if (isObject(json.config)) return MEDIA_TYPES.ociManifest;
  throw invalid('no mediaType in the body or Content-Type, and the shape is neither an image manifest nor an index');
}

/** Parses and checks the structure of a manifest being pushed. Stored blobs are checked by the store. */
export function parseManifest(content: Buffer, contentType?: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw invalid(`body is not JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw invalid('body must be a JSON object');
  const mediaType = mediaTypeOf(json, contentType);
  if (mediaType === MEDIA_TYPES.schema1 || mediaType === MEDIA_TYPES.schema1Signed) {
    throw invalid('Docker schema1 manifests are no longer accepted (distribution 2.8 refuses them too): push with a client that writes schema2 or OCI');
  }
  if (!IMAGE_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    throw invalid(`unsupported manifest media type ${mediaType}`, { mediaType });
  }
  if (json.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const annotations = stringMap(json.annotations, 'annotations');
  const subject = json.subject === undefined ? undefined : descriptor(json.subject, 'subject');
  if (json.artifactType !== undefined && typeof json.artifactType !== 'string') throw invalid('artifactType must be a string');
  const common = {
    mediaType,
    ...(annotations && { annotations }),
    ...(subject && { subject }),
    ...(typeof json.artifactType === 'string' && { artifactType: json.artifactType }),
  };
  if (INDEX_TYPES.has(mediaType)) {
    if (json.config !== undefined || json.layers !== undefined) throw invalid('an index has manifests, not config or layers');
    return { ...common, kind: 'index', layers: [], manifests: descriptors(json.manifests, 'manifests') };
  }
  if (json.manifests !== undefined) throw invalid('an image manifest has config and layers, not manifests');
  const layers = descriptors(json.layers, 'layers');
  if (mediaType === MEDIA_TYPES.dockerManifest && layers.length === 0) throw invalid('a Docker image manifest needs at least one layer');
  return { ...common, kind: 'image', config: descriptor(json.config, 'config'), layers, manifests: [] };
}

/** Media type of a manifest already stored (schema1 included), read from its own bytes. */
export function storedMediaType(content: Buffer): string {
  try {
    const json: unknown = JSON.parse(content.toString('utf8'));
    if (isObject(json)) {
      if (typeof json.mediaType === 'string') return json.mediaType;
      if (json.schemaVersion === 1) return Array.isArray(json.signatures) ? MEDIA_TYPES.schema1Signed : MEDIA_TYPES.schema1;
      if (Array.isArray(json.manifests)) return MEDIA_TYPES.ociIndex;
    }
  } catch {
    // Stored bytes that are not JSON still get served, typed by the fallback below.
  }
  return MEDIA_TYPES.ociManifest;
}

/** Parses a stored manifest for reading (referrers, collectors): never throws on old formats. */
export function readStoredManifest(content: Buffer): Manifest | undefined {
  try {
    return parseManifest(content);
  } catch (err) {
    if (err instanceof RegistryError) return undefined;
    throw err;
  }
}
