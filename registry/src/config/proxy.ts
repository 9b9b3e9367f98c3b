// proxy: distribution's pull-through cache section (remoteurl, username, password, ttl) as it is, plus `upstreams`,
// registries mirrored side by side, each under its namespace (docs/mirror.md). Routing and fetching live in src/proxy/.
import { isValidName } from '../storage/reference.js';
import type { ProxyConfig, UpstreamConfig } from './types.js';
import type { Section } from './section.js';

/** distribution's default: content a week without a pull becomes collectable. */
const DEFAULT_TTL = 168 * 3_600_000;

/** A registry host as clients name it and containerd sends it in `?ns=`: lowercase host, optional port. */
const NAMESPACE = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$/;

function readRemoteUrl(s: Section): string {
  const text = s.required('remoteurl');
  if (text === '') return '';
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '' || url.search !== '' || url.hash !== '') {
    s.error('remoteurl', `${JSON.stringify(text)} is not an http(s) URL of a registry (use e.g. https://registry-1.docker.io)`, s.originOf('remoteurl'));
    return text;
  }
  return text.replace(/\/+$/, '');
}

function readUpstream(s: Section, inheritedTtl: number): UpstreamConfig {
  const remoteurl = readRemoteUrl(s);
  const upstream: UpstreamConfig = { remoteurl, ttl: s.duration('ttl', inheritedTtl) };
  const username = s.string('username');
  const password = s.string('password');
  if (username) upstream.username = username;
  if (password) upstream.password = password;
  if (Boolean(username) !== Boolean(password)) {
    const missing = username ? 'password' : 'username';
    s.error(missing, `required when ${missing === 'password' ? 'username' : 'password'} is set (omit both to pull anonymously)`, s.origin);
  }
  if (username && remoteurl.startsWith('http:')) {
    s.warn('password', `is sent to ${remoteurl} over plain http`, s.originOf('password'));
  }
  const cabundle = s.string('cabundle');
  if (cabundle) upstream.cabundle = cabundle;
  return upstream;
}

function readNamespaced(s: Section, inheritedTtl: number, seen: Map<string, string>): UpstreamConfig {
  const namespace = s.required('namespace').toLowerCase();
  const upstream = readUpstream(s, inheritedTtl);
  if (namespace === '') return upstream;
  const prefix = namespace.replace(':', '_');
  if (!NAMESPACE.test(namespace) || !isValidName(prefix)) {
    s.error('namespace', `${JSON.stringify(namespace)} is not a registry host name as clients write it (use e.g. docker.io, quay.io or registry.example.com:5000)`, s.originOf('namespace'));
  } else if (seen.has(namespace)) {
    s.error('namespace', `${namespace} is configured twice (also at ${seen.get(namespace)}): keep one entry`, s.originOf('namespace'));
  }
  seen.set(namespace, s.path);
  return { namespace, prefix, ...upstream };
}

export function readProxy(top: Section): ProxyConfig | undefined {
  if (top.get('proxy') === undefined) return undefined;
  return top.section('proxy', (s) => {
    const ttl = s.duration('ttl', DEFAULT_TTL);
    const seen = new Map<string, string>();
    const upstreams = s.sectionList('upstreams', (u) => readNamespaced(u, ttl, seen));
    const proxy: ProxyConfig = { upstreams };
    if (s.get('remoteurl') !== undefined) proxy.remote = readUpstream(s, ttl);
    else {
      for (const key of ['username', 'password', 'cabundle']) {
        if (s.get(key) !== undefined) s.error(key, 'has no remoteurl to apply to (set proxy.remoteurl, or move it into an entry of proxy.upstreams)', s.originOf(key));
      }
      if (upstreams.length === 0) {
        s.warn(undefined, 'neither remoteurl nor upstreams is set: the registry mirrors nothing', s.origin);
        return undefined;
      }
    }
    return proxy;
  });
}
