// Turns the raw tree (file plus environment) into one typed Config, collecting every problem on the way.
import type { Config, HealthConfig, HttpConfig, LogConfig, LogLevel, StorageDriverConfig } from './types.js';
import { readAuth } from './auth.js';
import { bounded, describeText, describeValue, Section, type Problems } from './section.js';
import { readProxy } from './proxy.js';
import { readRedis } from './redis.js';
import { readStorage } from './storage.js';
import { checked, headerValueProblem } from './header-value.js';
import type { MapNode } from './tree.js';

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace', 'fatal', 'panic'];
const FORMATTERS = ['text', 'json', 'logstash'] as const;

/** Top-level sections distribution has and this registry does not implement. */
const UNSUPPORTED: Record<string, string> = {
  notifications: 'no events are sent',
  middleware: 'ignored',
  reporting: 'ignored',
  policy: 'ignored',
  catalog: 'ignored',
};

/** Every top-level key distribution knows; an environment variable under any other is ignored, as distribution does. */
export const TOP_LEVEL_KEYS: readonly string[] = [
  'version',
  'log',
  'loglevel',
  'storage',
  'auth',
  'http',
  'health',
  'validation',
  'compatibility',
  'redis',
  'proxy',
  ...Object.keys(UNSUPPORTED),
];

function readLog(s: Section, deprecatedLevel: LogLevel | undefined): LogConfig {
  const fields: Record<string, string> = {};
  s.section('fields', (f) => {
    for (const [key, node] of f.entries()) {
      if (node.kind === 'scalar') fields[key] = typeof node.value === 'string' ? node.value : node.text;
      else f.error(key, `expected a string, got ${describeValue(node)}`, node.origin);
    }
  });
  s.unsupported('hooks');
  s.unsupported('reportcaller');
  return {
    level: s.oneOf('level', LOG_LEVELS, deprecatedLevel ?? 'info'),
    formatter: s.oneOf('formatter', FORMATTERS, 'text'),
    fields,
    accesslog: s.section('accesslog', (a) => ({ disabled: a.boolean('disabled', false) })),
  };
}

/** More workers than this is a typo, not a machine: each one holds its own memory (about 70 MiB). */
const MAX_WORKERS = 1024;

const ADDR = /^(\[[0-9a-fA-F:.]+\]|[^:]*):(\d{1,5})$/;

/** Adds the leading and trailing "/" distribution expects around a path prefix. */
function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

function readTls(s: Section): HttpConfig['tls'] {
  for (const key of ['minimumtls', 'ciphersuites', 'clientauth']) s.unsupported(key, "Node's TLS defaults apply");
  s.unsupported('letsencrypt', 'give a certificate and key instead');
  const certificate = s.string('certificate');
  const key = s.string('key');
  const clientcas = s.stringList('clientcas');
  if (certificate === undefined && key === undefined) {
    if (clientcas !== undefined) s.error('clientcas', 'needs http.tls.certificate and http.tls.key', s.originOf('clientcas'));
    return undefined;
  }
  const tls: NonNullable<HttpConfig['tls']> = { certificate: s.required('certificate'), key: s.required('key') };
  if (clientcas !== undefined) tls.clientcas = clientcas;
  return tls;
}

function readHeaders(s: Section): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name] of s.entries()) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) s.error(name, 'is not a valid HTTP header name', s.originOf(name));
    const values = s.stringList(name);
    if (values === undefined) continue;
    const node = s.get(name);
    values.forEach((value, i) => checked(s, `${name}[${i}]`, value, headerValueProblem, node?.kind === 'seq' ? node.items[i]?.origin : undefined));
    headers[name] = values;
  }
  return headers;
}

function readDebug(s: Section): HttpConfig['debug'] {
  const addr = s.string('addr');
  const prometheus = s.section('prometheus', (p) => ({
    enabled: p.boolean('enabled', false),
    path: checkPath(p, p.string('path') ?? '/metrics'),
  }));
  if (addr === undefined || addr === '') {
    if (s.present) s.warn(undefined, 'no addr: the debug server (and prometheus metrics) stays off', s.origin);
    return undefined;
  }
  checkAddr(s, 'addr', addr);
  return { addr, prometheus };
}

function checkPath(s: Section, path: string): string {
  if (!path.startsWith('/')) s.error('path', `${describeText(path)} must start with "/"`, s.originOf('path'));
  return path;
}

function checkAddr(s: Section, key: string, addr: string): void {
  const match = ADDR.exec(addr);
  if (match === null || Number(match[2]) > 65535) {
    s.error(key, `${describeText(addr)} is not host:port (use e.g. :5000 or 127.0.0.1:5000)`, s.originOf(key));
  }
}

function readHost(s: Section): string | undefined {
  const host = s.string('host');
  if (host === undefined || host === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(host);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    s.error('host', `${describeText(host)} is not an absolute http(s) URL (use e.g. https://registry.example.com)`, s.originOf('host'));
    return host;
  }
  // Written as is into every Location header; the URL parser above silently drops tabs and newlines.
  return checked(s, 'host', host, headerValueProblem);
}

function readWorkers(s: Section, driver: StorageDriverConfig['type']): number {
  const workers = s.integer('workers', 1, { min: 1, max: MAX_WORKERS });
  if (driver === 'inmemory' && workers > 1) {
    s.error('workers', `${workers} workers cannot share the inmemory driver's images, which live in one process's memory: use 1, or filesystem, s3 or oss`, s.originOf('workers'));
  }
  return workers;
}

function readHttp(s: Section, driver: StorageDriverConfig['type']): HttpConfig {
  const addr = s.string('addr') ?? ':5000';
  checkAddr(s, 'addr', addr);
  const net = s.string('net');
  if (net !== undefined && net !== '' && net !== 'tcp') s.error('net', `${describeText(net)} is not supported (only tcp)`, s.originOf('net'));
  s.unsupported('h2c');
  const http: HttpConfig = {
    addr,
    http2: s.section('http2', (h) => ({ disabled: h.boolean('disabled', false) })),
    prefix: normalisePrefix(checked(s, 'prefix', s.string('prefix') ?? '', headerValueProblem)),
    relativeurls: s.boolean('relativeurls', false),
    headers: s.section('headers', readHeaders),
    draintimeout: s.duration('draintimeout', 0),
  };
  const host = readHost(s);
  if (host !== undefined) http.host = host;
  const secret = s.string('secret');
  if (secret !== undefined && secret !== '') http.secret = secret;
  const tls = s.section('tls', readTls);
  if (tls !== undefined) http.tls = tls;
  const debug = s.section('debug', readDebug);
  if (debug !== undefined) http.debug = debug;
  if (s.get('workers') !== undefined) http.workers = readWorkers(s, driver);
  return http;
}

function readHealth(s: Section): HealthConfig {
  for (const key of ['file', 'http', 'tcp']) s.unsupported(key);
  return {
    storagedriver: s.section('storagedriver', (d) => ({
      enabled: d.boolean('enabled', false),
      interval: d.duration('interval', 10_000, { positive: true }),
      // distribution: unset or 0 means a single failure marks the registry unhealthy.
      threshold: Math.max(1, d.integer('threshold', 1, { min: 0 })),
    })),
  };
}

function readPatterns(s: Section, key: string): string[] {
  const patterns = s.stringList(key) ?? [];
  const node = s.get(key);
  patterns.forEach((pattern, i) => {
    try {
      new RegExp(pattern);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const origin = node?.kind === 'seq' ? node.items[i]?.origin : undefined;
      s.error(`${key}[${i}]`, `${describeText(pattern)} is not a valid regular expression: ${bounded(reason)}`, origin);
    }
  });
  return patterns;
}

function readValidation(s: Section): Config['validation'] {
  // distribution: validation is on unless `disabled`, and the deprecated `enabled: true` turns it back on.
  const enabled = s.boolean('enabled', false);
  const disabled = s.boolean('disabled', false) && !enabled;
  const urls = s.section('manifests', (m) => {
    m.unsupported('indexes', 'every platform manifest of an index must exist');
    return m.section('urls', (u) => ({ allow: readPatterns(u, 'allow'), deny: readPatterns(u, 'deny') }));
  });
  return { disabled, manifests: { urls } };
}

function readVersion(top: Section): void {
  const version = top.string('version');
  if (version === undefined) top.error('version', 'required (use 0.1)', top.origin);
  else if (version !== '0.1') top.error('version', `${describeText(version)} is not supported (use 0.1)`, top.originOf('version'));
}

/** Always returns a Config; it is only meaningful when no issue was added to `problems`. */
export function validate(root: MapNode, problems: Problems): Config {
  const top = new Section(problems, '', root, root.origin);
  readVersion(top);
  const deprecatedLevel = top.get('loglevel') === undefined ? undefined : top.oneOf('loglevel', LOG_LEVELS, 'info');
  if (deprecatedLevel !== undefined) top.warn('loglevel', 'deprecated, use log.level', top.originOf('loglevel'));
  const log = top.section('log', (s) => readLog(s, deprecatedLevel));
  const storage = readStorage(top);
  const config: Config = {
    version: '0.1',
    log,
    storage,
    http: top.section('http', (s) => readHttp(s, storage.driver.type)),
    health: top.section('health', readHealth),
    validation: top.section('validation', readValidation),
  };
  const auth = readAuth(top);
  if (auth !== undefined) config.auth = auth;
  const redis = readRedis(top);
  if (redis !== undefined) config.redis = redis;
  const proxy = readProxy(top);
  if (proxy !== undefined) config.proxy = proxy;
  if (config.storage.cache.blobdescriptor === 'redis' && redis === undefined) {
    top.error('storage', 'storage.cache.blobdescriptor is redis, but there is no redis section: add redis.addr (e.g. 127.0.0.1:6379) or use inmemory', top.originOf('storage'));
  }
  top.ignore('compatibility');
  for (const [key, consequence] of Object.entries(UNSUPPORTED)) top.unsupported(key, consequence);
  top.finish();
  return config;
}
