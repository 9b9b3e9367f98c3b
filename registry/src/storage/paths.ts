// The one place that knows distribution's storage layout. Nothing else builds a storage path.
//
// <root>/docker/registry/v2/
// ├── blobs/
// │   └── <algorithm>/<first two hex>/<hex>/data            content of every blob and manifest
// ├── repositories/
// │   └── <name>/
// │       ├── _layers/<algorithm>/<hex>/link                 the repository may serve this blob
// │       ├── _manifests/
// │       │   ├── revisions/<algorithm>/<hex>/link          a manifest stored in this repository
// │       │   ├── tags/<tag>/
// │       │   │   ├── current/link                           digest the tag points at
// │       │   │   └── index/<algorithm>/<hex>/link          every digest the tag has pointed at
// │       │   └── referrers/<algorithm>/<subject hex>/<algorithm>/<hex>/link
// │       │                                                  (ours) manifests whose subject is that digest
// │       └── _uploads/<uuid>/
// │           ├── data                                       bytes received so far
// │           └── startedat                                  RFC 3339 time the upload began
// ├── _migrate/<algorithm>/<hex>/data                        (ours) a blob `registry migrate` is copying in,
// │                                                          moved to blobs/ once its digest is verified
// ├── _gc/                                                   (ours) collections running on a live registry
// │   ├── active/<collection>                                one running collection, rewritten while it runs
// │   └── work/<collection>/
// │       ├── intents/<writer>-<seq>                         digests a writer is about to reference
// │       └── tombstones/<algorithm>/<hex>                   a digest the collection is deleting right now
// ├── _coord/                                                (ours) the coordination layer's storage backend
// │   ├── leases/<name>/<holder>                             one process's claim on a lease: its ttl in ms,
// │   │                                                      renewed by rewriting (the modification time counts)
// │   ├── events/<time>-<group>-<seq>                        one batch of published keys, kept a few minutes
// │   └── jobs/<name>                                        when a once-per-fleet job last ran, and its result
// └── _mirror/<name>/                                        (ours) a repository the pull-through cache filled
//     ├── _tags/<tag>                                        the upstream it came from; the modification time
//     └── _revisions/<algorithm>/<hex>                       is the last pull, from which proxy.ttl counts
//
// A link file holds a digest ("sha256:<hex>") and nothing else. The referrers index is an addition of this
// registry: distribution ignores it, and a referrer pushed through distribution is simply not listed.
import { DigestError, parseDigest, type Digest } from './digest.js';

const V2 = '/docker/registry/v2';

export const paths = {
  root: V2,
  blobsRoot: `${V2}/blobs`,
  repositoriesRoot: `${V2}/repositories`,

  blobDir(d: Digest): string {
    return `${V2}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`;
  },
  blobData(d: Digest): string {
    return `${this.blobDir(d)}/data`;
  },

  repository(name: string): string {
    return `${V2}/repositories/${name}`;
  },
  layersRoot(name: string): string {
    return `${this.repository(name)}/_layers`;
  },
  layerDir(name: string, d: Digest): string {
    return `${this.layersRoot(name)}/${d.algorithm}/${d.hex}`;
  },
  layerLink(name: string, d: Digest): string {
    return `${this.layerDir(name, d)}/link`;
  },
  manifestsRoot(name: string): string {
    return `${this.repository(name)}/_manifests`;
  },
  revisionsRoot(name: string): string {
    return `${this.manifestsRoot(name)}/revisions`;
  },
  revisionDir(name: string, d: Digest): string {
    return `${this.revisionsRoot(name)}/${d.algorithm}/${d.hex}`;
  },
  revisionLink(name: string, d: Digest): string {
    return `${this.revisionDir(name, d)}/link`;
  },
  tagsRoot(name: string): string {
    return `${this.manifestsRoot(name)}/tags`;
  },
  tagDir(name: string, tag: string): string {
    return `${this.tagsRoot(name)}/${tag}`;
  },
  tagCurrentLink(name: string, tag: string): string {
    return `${this.tagDir(name, tag)}/current/link`;
  },
  tagIndexRoot(name: string, tag: string): string {
    return `${this.tagDir(name, tag)}/index`;
  },
  tagIndexDir(name: string, tag: string, d: Digest): string {
    return `${this.tagIndexRoot(name, tag)}/${d.algorithm}/${d.hex}`;
  },
  tagIndexLink(name: string, tag: string, d: Digest): string {
    return `${this.tagIndexDir(name, tag, d)}/link`;
  },
  referrersDir(name: string, subject: Digest): string {
    return `${this.manifestsRoot(name)}/referrers/${subject.algorithm}/${subject.hex}`;
  },
  referrerDir(name: string, subject: Digest, d: Digest): string {
    return `${this.referrersDir(name, subject)}/${d.algorithm}/${d.hex}`;
  },
  referrerLink(name: string, subject: Digest, d: Digest): string {
    return `${this.referrerDir(name, subject, d)}/link`;
  },
  uploadsRoot(name: string): string {
    return `${this.repository(name)}/_uploads`;
  },
  uploadDir(name: string, uuid: string): string {
    return `${this.uploadsRoot(name)}/${uuid}`;
  },
  uploadData(name: string, uuid: string): string {
    return `${this.uploadDir(name, uuid)}/data`;
  },
  uploadStartedAt(name: string, uuid: string): string {
    return `${this.uploadDir(name, uuid)}/startedat`;
  },
  collectionsRoot: `${V2}/_gc/active`,
  collection(id: string): string {
    return `${this.collectionsRoot}/${id}`;
  },
  collectionsWorkRoot: `${V2}/_gc/work`,
  collectionWork(id: string): string {
    return `${this.collectionsWorkRoot}/${id}`;
  },
  intentsRoot(id: string): string {
    return `${this.collectionWork(id)}/intents`;
  },
  intent(id: string, name: string): string {
    return `${this.intentsRoot(id)}/${name}`;
  },
  tombstone(id: string, d: Digest): string {
    return `${this.collectionWork(id)}/tombstones/${d.algorithm}/${d.hex}`;
  },
  coordRoot: `${V2}/_coord`,
  leaseDir(name: string): string {
    return `${V2}/_coord/leases/${name}`;
  },
  leaseClaim(name: string, holder: string): string {
    return `${this.leaseDir(name)}/${holder}`;
  },
  eventsRoot: `${V2}/_coord/events`,
  event(name: string): string {
    return `${this.eventsRoot}/${name}`;
  },
  jobRecord(name: string): string {
    return `${V2}/_coord/jobs/${name}`;
  },
  mirrorRoot: `${V2}/_mirror`,
  mirrorRepository(name: string): string {
    return `${V2}/_mirror/${name}`;
  },
  mirrorTagsRoot(name: string): string {
    return `${this.mirrorRepository(name)}/_tags`;
  },
  mirrorTagUse(name: string, tag: string): string {
    return `${this.mirrorTagsRoot(name)}/${tag}`;
  },
  mirrorRevisionsRoot(name: string): string {
    return `${this.mirrorRepository(name)}/_revisions`;
  },
  mirrorRevisionUse(name: string, d: Digest): string {
    return `${this.mirrorRevisionsRoot(name)}/${d.algorithm}/${d.hex}`;
  },
  migrateRoot: `${V2}/_migrate`,
  migrateStaging(d: Digest): string {
    return `${this.migrateRoot}/${d.algorithm}/${d.hex}/data`;
  },
};

/** The last element of a storage path: a hex, a tag, a repository component. */
export function lastPathElement(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The digest a blobs/<algorithm>/<first two hex>/<hex>/data path stores, or undefined for any other path (a stray
 * file, an algorithm this registry does not know): walkers of blobs/ leave such paths alone.
 */
export function blobDataDigest(path: string): Digest | undefined {
  const parts = path.slice(paths.blobsRoot.length + 1).split('/');
  if (!path.startsWith(`${paths.blobsRoot}/`) || parts.length !== 4 || parts[3] !== 'data') return undefined;
  const [algorithm, prefix, hex] = parts as [string, string, string];
  if (prefix.length !== 2 || !hex.startsWith(prefix)) return undefined;
  try {
    return parseDigest(`${algorithm}:${hex}`);
  } catch (err) {
    if (err instanceof DigestError) return undefined;
    throw err;
  }
}
