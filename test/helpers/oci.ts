// A minimal OCI distribution client over fetch, for API tests: push blobs and manifests, read them back.
import { createHash } from 'node:crypto';

export function sha256(content: Buffer | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export interface ErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

export class Client {
  constructor(
    readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  request(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer | string; redirect?: 'follow' | 'manual' } = {}): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: { ...this.headers, ...init.headers },
      ...(init.body !== undefined && { body: init.body }),
      redirect: init.redirect ?? 'manual',
    });
  }

  /** Monolithic upload (POST ?digest=); returns the digest. */
  async pushBlob(name: string, content: Buffer | string): Promise<string> {
    const digest = sha256(content);
    const res = await this.request('POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: typeof content === 'string' ? Buffer.from(content) : content,
    });
    if (res.status !== 201) throw new Error(`push blob ${digest} to ${name}: ${res.status} ${await res.text()}`);
    return digest;
  }

  async pushManifest(name: string, reference: string, manifest: object | string, mediaType = OCI_MANIFEST): Promise<{ digest: string; res: Response }> {
    const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    const res = await this.request('PUT', `/v2/${name}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body });
    if (res.status !== 201) throw new Error(`push manifest ${name}:${reference}: ${res.status} ${await res.text()}`);
    return { digest: res.headers.get('docker-content-digest') ?? '', res };
  }

  /** Pushes a config and `layers` layers and an OCI manifest naming them; returns everything pushed. */
  async pushImage(name: string, tag: string, layers: (Buffer | string)[] = [`layer of ${name}:${tag}`], extra: Record<string, unknown> = {}) {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
    const configDigest = await this.pushBlob(name, config);
    const layerDescriptors = [];
    for (const layer of layers) {
      const buffer = typeof layer === 'string' ? Buffer.from(layer) : layer;
      layerDescriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await this.pushBlob(name, buffer), size: buffer.length });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layerDescriptors,
      ...extra,
    };
    const body = JSON.stringify(manifest);
    const { digest } = await this.pushManifest(name, tag, body);
    return { digest, manifest, body, size: Buffer.byteLength(body), layers: layerDescriptors };
  }
}

export async function errorOf(res: Response): Promise<ErrorBody> {
  return (await res.json()) as ErrorBody;
}
