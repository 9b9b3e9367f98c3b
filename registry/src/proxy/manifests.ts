// Manifests of mirrored repositories. By digest they are immutable: fetched once (SingleFlight, fleet-wide), kept.
// A tag is asked of the upstream (HEAD) on every request while it answers, so a moved tag is seen at once, and served
// from storage when it does not. An index is stored alone: its children are fetched when a client asks for them, so a
// platform-specific pull fetches one platform.
import { createHash } from 'node:crypto';
import type { Context } from '../api/context.js';
import { MANIFEST_LIMIT } from '../api/manifests.js';
import { readSmallBody } from '../api/http-input.js';
import { RegistryError } from '../errcode.js';
import { digestOf, formatDigest, isDigest, parseDigest, sameDigest, type Digest } from '../storage/digest.js';
import { MEDIA_TYPES, storedMediaType } from '../storage/manifest.js';
import type { StoredManifest } from '../storage/manifests.js';
import { lookupReference } from '../storage/reference.js';
import { markOutcome, present, type MirrorServices, type Outcome, type Upstream } from './context.js';
import { upstreamRefusal } from './errors.js';
import { drain, UpstreamError } from './upstream-client.js';

/** Where the manifests a request reads come from: storage for a local repository, or the mirror. */
export interface ManifestSource {
  resolve(reference: string): Promise<{ digest: Digest; byTag: boolean }>;
  get(digest: Digest): Promise<StoredManifest>;
}

/** Every manifest type this registry stores, so the upstream answers with what it holds rather than a conversion. */
const ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

const RANK: Record<Outcome, number> = { hit: 0, miss: 1, stale: 2 };

export class MirroredManifests implements ManifestSource {
  private outcome: Outcome | undefined;

  constructor(
    private readonly m: MirrorServices,
    private readonly ctx: Context,
    private readonly name: string,
    private readonly upstream: Upstream,
  ) {}

  async resolve(reference: string): Promise<{ digest: Digest; byTag: boolean }> {
    const ref = lookupReference(reference);
    if (ref.digest) return { digest: ref.digest, byTag: false };
    return { digest: await this.resolveTag(ref.tag), byTag: true };
  }

  async get(digest: Digest): Promise<StoredManifest> {
    const { store, metrics, usage } = this.m;
    const { name } = this;
    if (await store.manifests.exists(name, digest)) {
      metrics?.mirrorHits.inc({ kind: 'manifest' });
      this.mark('hit');
      await usage.touchRevision(name, digest, this.upstream.upstream);
      return store.manifests.get(name, digest);
    }
    metrics?.mirrorMisses.inc({ kind: 'manifest' });
    this.mark('miss');
    // Per repository: the revision link is what the leader writes and the followers look for.
    const repository = createHash('sha256').update(name).digest('hex').slice(0, 16);
    try {
      return await this.m.flight.run(`manifest.${digest.algorithm}.${digest.hex}.${repository}`, {
        ready: async () => ((await store.manifests.exists(name, digest)) ? store.manifests.get(name, digest) : undefined),
        lead: () => this.fetch(`manifests/${formatDigest(digest)}`, digest),
      });
    } catch (err) {
      throw upstreamRefusal(err, 'manifest', `manifest ${name}@${formatDigest(digest)}`);
    }
  }

  private async resolveTag(tag: string): Promise<Digest> {
    const { store, usage } = this.m;
    const { name, ctx } = this;
    const label = this.upstream.client.label;
    let digest: Digest;
    try {
      digest = await this.upstreamTag(tag);
    } catch (err) {
      // The upstream answered that it has no such tag: that is an answer, not an outage.
      if (!(err instanceof UpstreamError) || err.status === 404) throw upstreamRefusal(err, 'manifest', `${name}:${tag}`);
      const cached = await present(store.tags.resolve(name, tag));
      if (cached === undefined) throw upstreamRefusal(err, 'manifest', `${name}:${tag}`);
      this.mark('stale');
      ctx.state.log.warn({ name, tag, upstream: label, err: { message: err.message } }, 'mirror: the upstream did not confirm the tag; served from the cache');
      await usage.touchTag(name, tag, this.upstream.upstream);
      return cached;
    }
    await this.get(digest);
    const cached = await present(store.tags.resolve(name, tag));
    if (cached === undefined || !sameDigest(cached, digest)) {
      await store.manifests.tag(name, tag, digest, { checkReferences: false });
      ctx.state.log.info(
        { name, tag, digest: formatDigest(digest), ...(cached && { was: formatDigest(cached) }), upstream: label },
        cached ? 'mirror: tag moved upstream' : 'mirror: tag fetched',
      );
    } else {
      ctx.state.log.info({ name, tag, digest: formatDigest(digest), upstream: label }, 'mirror: tag confirmed by the upstream');
    }
    await usage.touchTag(name, tag, this.upstream.upstream);
    return digest;
  }

  /** The digest the tag points at upstream now. */
  private async upstreamTag(tag: string): Promise<Digest> {
    const { client, remote } = this.upstream;
    const res = await client.request('HEAD', remote, `manifests/${tag}`, { accept: ACCEPT });
    await drain(res);
    if (res.statusCode !== 200) throw client.refused(res, `HEAD /v2/${remote}/manifests/${tag}`);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && isDigest(header)) return parseDigest(header);
    // An upstream that does not name the digest: fetch by tag, and the content says.
    return (await this.fetch(`manifests/${tag}`, undefined)).digest;
  }

  /** One GET from the upstream, verified against `expected` when the request named it, stored in the repository. */
  private async fetch(path: string, expected: Digest | undefined): Promise<StoredManifest> {
    const { store, usage, metrics } = this.m;
    const { client, remote } = this.upstream;
    const { name } = this;
    metrics?.mirrorFetches.inc({ kind: 'manifest' });
    try {
      const res = await client.request('GET', remote, path, { accept: ACCEPT });
      if (res.statusCode !== 200) {
        await drain(res);
        throw client.refused(res, `GET /v2/${remote}/${path}`);
      }
      const content = await readSmallBody(res, MANIFEST_LIMIT, () => new RegistryError('UPSTREAM_FAILED', `${client.config.remoteurl} sent a manifest larger than ${MANIFEST_LIMIT} bytes for ${remote}`));
      client.countBytes(content.length);
      const digest = digestOf(content, expected?.algorithm ?? 'sha256');
      if (expected && !sameDigest(expected, digest)) {
        client.countError('digest');
        throw new UpstreamError('digest', `${client.config.remoteurl} sent a manifest for ${remote}@${formatDigest(expected)} whose digest is ${formatDigest(digest)}; nothing was stored`);
      }
      try {
        await store.manifests.put(name, content, res.headers['content-type'], expected, { checkReferences: false });
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        client.countError('invalid');
        throw new UpstreamError('invalid', `${client.config.remoteurl} sent a manifest for ${remote} that this registry does not store: ${err.message}`);
      }
      await usage.touchRevision(name, digest, this.upstream.upstream);
      this.ctx.state.log.info({ name, digest: formatDigest(digest), upstream: client.label }, 'mirror: manifest fetched');
      return { digest, mediaType: storedMediaType(content), content };
    } finally {
      metrics?.mirrorFetches.dec({ kind: 'manifest' });
    }
  }

  /** The response header keeps the worst outcome of the request's steps: stale over miss over hit. */
  private mark(outcome: Outcome): void {
    if (this.outcome !== undefined && RANK[this.outcome] >= RANK[outcome]) return;
    this.outcome = outcome;
    markOutcome(this.ctx, outcome);
  }
}
