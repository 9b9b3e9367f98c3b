// Which upstream a repository mirrors. containerd's `?ns=<registry>` names one (its content is stored under the
// namespace's prefix, e.g. docker.io/library/alpine); without it, a name under a namespace's prefix goes to that
// upstream, and everything else to distribution's single `remoteurl` when there is one. A request whose `ns` names no
// configured upstream is served from local storage only.
import type { ProxyConfig, UpstreamConfig } from '../config/types.js';

export interface Route {
  upstream: UpstreamConfig;
  /** The repository's name at the upstream. */
  remote: string;
}

/** Names Docker Hub answers to: containerd sends ns=docker.io for a remoteurl of https://registry-1.docker.io. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

function isDockerHub(host: string): boolean {
  return DOCKER_HUB.has(host);
}

/** Docker Hub keeps official images under library/, which clients add themselves only for docker.io references. */
function remoteName(upstream: UpstreamConfig, name: string): string {
  return isDockerHub(new URL(upstream.remoteurl).host) && !name.includes('/') ? `library/${name}` : name;
}

export class Routes {
  private readonly byNamespace = new Map<string, UpstreamConfig>();
  private readonly byPrefix = new Map<string, UpstreamConfig>();
  private readonly remoteHost: string | undefined;

  constructor(private readonly config: ProxyConfig) {
    for (const upstream of config.upstreams) {
      if (upstream.namespace !== undefined) this.byNamespace.set(upstream.namespace, upstream);
      if (upstream.prefix !== undefined) this.byPrefix.set(upstream.prefix, upstream);
    }
    this.remoteHost = config.remote && new URL(config.remote.remoteurl).host;
  }

  /** Every upstream, the remoteurl first. */
  all(): UpstreamConfig[] {
    return [...(this.config.remote ? [this.config.remote] : []), ...this.config.upstreams];
  }

  /** The upstream configured for `?ns=<namespace>`, whose content lives under its prefix. */
  namespaced(ns: string): UpstreamConfig | undefined {
    return this.byNamespace.get(ns.toLowerCase());
  }

  /** The upstream that a request for repository `name` (as stored here) mirrors, or undefined for local storage only. */
  route(name: string, ns?: string): Route | undefined {
    if (ns && !this.namespaced(ns) && !this.remoteAnswersTo(ns.toLowerCase())) return undefined;
    const slash = name.indexOf('/');
    const prefixed = slash > 0 ? this.byPrefix.get(name.slice(0, slash)) : undefined;
    if (prefixed) return { upstream: prefixed, remote: remoteName(prefixed, name.slice(slash + 1)) };
    const remote = this.config.remote;
    return remote && { upstream: remote, remote: remoteName(remote, name) };
  }

  private remoteAnswersTo(ns: string): boolean {
    if (this.remoteHost === undefined) return false;
    return ns === this.remoteHost || (isDockerHub(ns) && isDockerHub(this.remoteHost));
  }
}
