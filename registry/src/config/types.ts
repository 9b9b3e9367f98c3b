// The typed configuration every module receives. Only src/config/ reads YAML or the environment to build it.
// Keys and meanings follow distribution's config.yml (version 0.1); see docs/configuration.md.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'fatal' | 'panic';

export interface LogConfig {
  level: LogLevel;
  formatter: 'text' | 'json' | 'logstash';
  fields: Record<string, string>;
  accesslog: { disabled: boolean };
}

export interface FilesystemStorage {
  rootdirectory: string;
  maxthreads?: number;
}

export interface S3Storage {
  accesskey?: string;
  secretkey?: string;
  region: string;
  regionendpoint?: string;
  forcepathstyle?: boolean;
  bucket: string;
  encrypt?: boolean;
  keyid?: string;
  secure?: boolean;
  skipverify?: boolean;
  v4auth?: boolean;
  chunksize?: number;
  multipartcopychunksize?: number;
  multipartcopymaxconcurrency?: number;
  multipartcopythresholdsize?: number;
  rootdirectory?: string;
  storageclass?: string;
  useragent?: string;
}

export interface OSSStorage {
  accesskeyid: string;
  accesskeysecret: string;
  region: string;
  endpoint?: string;
  internal?: boolean;
  bucket: string;
  encrypt?: boolean;
  secure?: boolean;
  chunksize?: number;
  rootdirectory?: string;
}

export type StorageDriverConfig =
  | { type: 'filesystem'; filesystem: FilesystemStorage }
  | { type: 'inmemory' }
  | { type: 's3'; s3: S3Storage }
  | { type: 'oss'; oss: OSSStorage };

export interface UploadPurgingConfig {
  enabled: boolean;
  /** milliseconds */
  age: number;
  /** milliseconds */
  interval: number;
  dryrun: boolean;
}

/** storage.maintenance.gc: the background collector of `serve` (ours; distribution has none). */
export interface GcScheduleConfig {
  enabled: boolean;
  /** milliseconds between collections, across the fleet */
  interval: number;
  /** milliseconds: unreferenced blobs and untagged manifests younger than this are kept (garbage-collect --min-age) */
  minage: number;
  deleteuntagged: boolean;
}

/** storage.maintenance.prune: LAIN's weekly retention run by `serve` (ours). */
export interface PruneScheduleConfig {
  enabled: boolean;
  /** milliseconds between runs, across the fleet */
  interval: number;
  /** tags kept per repository, newest first (registry prune --keep) */
  keep: number;
  /** repository globs (registry prune --repo); empty: every repository */
  repositories: string[];
}

export interface StorageConfig {
  driver: StorageDriverConfig;
  delete: { enabled: boolean };
  maintenance: {
    readonly: { enabled: boolean };
    uploadpurging: UploadPurgingConfig;
    gc: GcScheduleConfig;
    prune: PruneScheduleConfig;
  };
  cache: { blobdescriptor?: 'inmemory' | 'redis' };
  redirect: { disable: boolean };
}

export interface HtpasswdAuth {
  type: 'htpasswd';
  realm: string;
  path: string;
}

export interface SillyAuth {
  type: 'silly';
  realm: string;
  service: string;
}

export interface TokenAuth {
  type: 'token';
  realm: string;
  service: string;
  issuer: string;
  rootcertbundle: string;
  autoredirect: boolean;
  jwks?: string;
  signingalgorithms?: string[];
}

export type AuthConfig = HtpasswdAuth | SillyAuth | TokenAuth;

export interface HttpConfig {
  /** host:port or :port, as distribution writes it */
  addr: string;
  /** path prefix the API is served under, always starting and ending with "/" ("/" when unset) */
  prefix: string;
  /** external base URL for Location headers, e.g. https://registry.example.com */
  host?: string;
  secret?: string;
  relativeurls: boolean;
  tls?: { certificate: string; key: string; clientcas?: string[] };
  /** With tls, HTTP/2 is offered (ALPN) beside HTTP/1.1 unless disabled, as distribution does. */
  http2: { disabled: boolean };
  /** extra response headers */
  headers: Record<string, string[]>;
  /** milliseconds to drain in-flight requests on SIGTERM; 0 means wait for them without limit */
  draintimeout: number;
  /** processes `registry serve` runs (node:cluster workers on http.addr); unset: one per core, 1: no cluster */
  workers?: number;
  debug?: {
    addr: string;
    prometheus: { enabled: boolean; path: string };
  };
}

export interface HealthConfig {
  storagedriver: {
    enabled: boolean;
    /** milliseconds */
    interval: number;
    threshold: number;
  };
}

export interface RedisConfig {
  /** host:port */
  addr: string;
  password?: string;
  db: number;
  /** milliseconds */
  dialtimeout: number;
  /** milliseconds; 0 means no limit */
  readtimeout: number;
  writetimeout: number;
  tls: { enabled: boolean };
}

/** One registry this one mirrors (docs/mirror.md). */
export interface UpstreamConfig {
  /**
   * The registry's name as clients call it (docker.io, quay.io, host:port): requests with `?ns=<namespace>` and
   * repositories under `<prefix>/` mirror it. Undefined for distribution's single `remoteurl`, which mirrors every
   * repository no namespace claims.
   */
  namespace?: string;
  /** The repository-name prefix its content is stored under: the namespace, with ":" written as "_". */
  prefix?: string;
  /** Base URL of its API, without a trailing "/" (e.g. https://registry-1.docker.io). */
  remoteurl: string;
  username?: string;
  password?: string;
  /** milliseconds of disuse after which mirrored content becomes collectable; 0 keeps it for ever */
  ttl: number;
  /** PEM file of the CAs its https certificate is checked against, instead of the system's */
  cabundle?: string;
}

export interface ProxyConfig {
  /** distribution's `proxy.remoteurl` (with username, password, ttl), when set. */
  remote?: UpstreamConfig;
  /** `proxy.upstreams`, by namespace. */
  upstreams: UpstreamConfig[];
}

export interface Config {
  version: '0.1';
  log: LogConfig;
  storage: StorageConfig;
  auth?: AuthConfig;
  redis?: RedisConfig;
  proxy?: ProxyConfig;
  http: HttpConfig;
  health: HealthConfig;
  validation: {
    disabled: boolean;
    manifests: { urls: { allow: string[]; deny: string[] } };
  };
}
