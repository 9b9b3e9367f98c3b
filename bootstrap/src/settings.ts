// bootstrap's own settings, all from the environment of the container; docs/bootstrap.md lists them.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EtcdSettings, EtcdTls } from './etcd.js';
import type { HttpAuth } from './etcd-v2.js';
import { BootstrapError, errorCode, type Problem } from './problem.js';

/** What a LAIN node resolves to its etcd cluster. */
export const DEFAULT_ENDPOINTS = 'http://etcd.lain:4001';
export const DEFAULT_ETCD_TIMEOUT_SECONDS = 30;
export const DEFAULT_WATCH_INTERVAL_SECONDS = 10;
/** distribution's conventional config path inside its container. */
export const DEFAULT_CONFIG_OUT = '/etc/docker/registry/config.yml';

// From dist/bootstrap/src/ to the package root, where etc/ and dist/registry/ live side by side.
const here = dirname(fileURLToPath(import.meta.url));

/** ETCD_ENDPOINTS=none: no etcd at all, the config comes from the template and REGISTRY_* alone. */
export const NO_ETCD = 'none';

export interface Settings {
  /** 'none' only when ETCD_ENDPOINTS says so: an etcd that cannot be read never turns into "no etcd". */
  etcd: EtcdSettings | typeof NO_ETCD;
  etcdTimeoutMs: number;
  /** How often `bootstrap --watch` reads etcd. */
  watchIntervalMs: number;
  templatePath: string;
  configOut: string;
  /** BOOTSTRAP_STATE_DIR; when unset, `.bootstrap` under the template's filesystem rootdirectory. */
  stateDir?: string;
  registryCli: string;
}

function parseEndpoints(text: string, problems: Problem[]): string[] | typeof NO_ETCD {
  const endpoints = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (endpoints.length === 1 && endpoints[0] === NO_ETCD) return NO_ETCD;
  for (const endpoint of endpoints) {
    if (endpoint === NO_ETCD) {
      problems.push({ source: 'environment variable ETCD_ENDPOINTS', message: `"${NO_ETCD}" cannot be listed with etcd endpoints`, fix: `ETCD_ENDPOINTS=${NO_ETCD} to run without etcd, or only etcd client URLs` });
      continue;
    }
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(endpoint).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.push({ source: 'environment variable ETCD_ENDPOINTS', message: `${JSON.stringify(endpoint)} is not an http(s) URL`, fix: `ETCD_ENDPOINTS=${DEFAULT_ENDPOINTS} (comma-separated URLs)` });
  }
  if (endpoints.length === 0) problems.push({ source: 'environment variable ETCD_ENDPOINTS', message: 'names no endpoint', fix: `ETCD_ENDPOINTS=${DEFAULT_ENDPOINTS} (or unset it; ETCD_ENDPOINTS=${NO_ETCD} runs without etcd)` });
  return endpoints;
}

async function readTlsFile(variable: string, env: NodeJS.ProcessEnv, problems: Problem[]): Promise<Buffer | undefined> {
  const path = env[variable];
  if (path === undefined || path === '') return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    problems.push({ source: `file ${path} (environment variable ${variable})`, message: `cannot be read (${errorCode(err)})`, fix: `mount the PEM file at ${path} or correct ${variable}` });
    return undefined;
  }
}

async function readTls(env: NodeJS.ProcessEnv, problems: Problem[]): Promise<EtcdTls | undefined> {
  const tls: EtcdTls = {
    ca: await readTlsFile('ETCD_CA', env, problems),
    cert: await readTlsFile('ETCD_CERT', env, problems),
    key: await readTlsFile('ETCD_KEY', env, problems),
  };
  if ((env.ETCD_CERT ?? '') !== '' && (env.ETCD_KEY ?? '') === '') problems.push({ source: 'environment variable ETCD_KEY', message: 'is required with ETCD_CERT', fix: 'set ETCD_KEY to the client key for ETCD_CERT' });
  if ((env.ETCD_KEY ?? '') !== '' && (env.ETCD_CERT ?? '') === '') problems.push({ source: 'environment variable ETCD_CERT', message: 'is required with ETCD_KEY', fix: 'set ETCD_CERT to the client certificate for ETCD_KEY' });
  return tls.ca === undefined && tls.cert === undefined && tls.key === undefined ? undefined : tls;
}

function readAuth(env: NodeJS.ProcessEnv, problems: Problem[]): HttpAuth | undefined {
  const username = env.ETCD_USERNAME ?? '';
  const password = env.ETCD_PASSWORD ?? '';
  if (username === '' && password === '') return undefined;
  if (username === '' || password === '') {
    const [missing, given] = username === '' ? ['ETCD_USERNAME', 'ETCD_PASSWORD'] : ['ETCD_PASSWORD', 'ETCD_USERNAME'];
    problems.push({ source: `environment variable ${missing}`, message: `is required with ${given}`, fix: `set ${missing} too, or neither` });
    return undefined;
  }
  return { username, password };
}

function parseSeconds(variable: string, env: NodeJS.ProcessEnv, fallback: number, problems: Problem[]): number {
  const text = env[variable];
  if (text === undefined || text === '') return fallback * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) {
    problems.push({ source: `environment variable ${variable}`, message: `${JSON.stringify(text)} is not a number of seconds`, fix: `${variable}=${fallback}` });
  }
  return seconds * 1000;
}

export async function readSettings(env: NodeJS.ProcessEnv): Promise<Settings> {
  const problems: Problem[] = [];
  const endpoints = parseEndpoints(env.ETCD_ENDPOINTS ?? DEFAULT_ENDPOINTS, problems);
  const tls = await readTls(env, problems);
  const auth = readAuth(env, problems);
  const etcdTimeoutMs = parseSeconds('BOOTSTRAP_ETCD_TIMEOUT', env, DEFAULT_ETCD_TIMEOUT_SECONDS, problems);
  const watchIntervalMs = parseSeconds('BOOTSTRAP_WATCH_INTERVAL', env, DEFAULT_WATCH_INTERVAL_SECONDS, problems);
  if (problems.length > 0) throw new BootstrapError(problems);
  const settings: Settings = {
    etcd: endpoints === NO_ETCD ? NO_ETCD : { endpoints, ...(tls === undefined ? {} : { tls }), ...(auth === undefined ? {} : { auth }) },
    etcdTimeoutMs,
    watchIntervalMs,
    templatePath: resolve(env.BOOTSTRAP_TEMPLATE || resolve(here, '../../../etc/config.yml')),
    configOut: resolve(env.BOOTSTRAP_CONFIG_OUT || DEFAULT_CONFIG_OUT),
    registryCli: resolve(env.BOOTSTRAP_REGISTRY_CLI || resolve(here, '../../registry/src/cli.js')),
  };
  if (env.BOOTSTRAP_STATE_DIR) settings.stateDir = resolve(env.BOOTSTRAP_STATE_DIR);
  return settings;
}
