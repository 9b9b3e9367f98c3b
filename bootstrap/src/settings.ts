// bootstrap's own settings, all from the environment of the container; docs/bootstrap.md lists them.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EtcdSettings, EtcdTls } from './etcd.js';
import { BootstrapError, errorCode, type Problem } from './problem.js';

/** What a LAIN node resolves to its etcd cluster. */
export const DEFAULT_ENDPOINTS = 'http://etcd.lain:4001';
export const DEFAULT_ETCD_TIMEOUT_SECONDS = 30;
export const DEFAULT_WATCH_INTERVAL_SECONDS = 10;
/** distribution's conventional config path inside its container. */
export const DEFAULT_CONFIG_OUT = '/etc/docker/registry/config.yml';

// From dist/bootstrap/src/ to the package root, where etc/ and dist/registry/ live side by side.
const here = dirname(fileURLToPath(import.meta.url));

export interface Settings {
  etcd: EtcdSettings;
  etcdTimeoutMs: number;
  /** How often `bootstrap --watch` reads etcd. */
  watchIntervalMs: number;
  templatePath: string;
  configOut: string;
  /** BOOTSTRAP_STATE_DIR; when unset, `.bootstrap` under the template's filesystem rootdirectory. */
  stateDir?: string;
  registryCli: string;
}

function parseEndpoints(text: string, problems: Problem[]): string[] {
  const endpoints = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const endpoint of endpoints) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(endpoint).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.push({ source: 'environment variable ETCD_ENDPOINTS', message: `${JSON.stringify(endpoint)} is not an http(s) URL`, fix: `ETCD_ENDPOINTS=${DEFAULT_ENDPOINTS} (comma-separated URLs)` });
  }
  if (endpoints.length === 0) problems.push({ source: 'environment variable ETCD_ENDPOINTS', message: 'names no endpoint', fix: `ETCD_ENDPOINTS=${DEFAULT_ENDPOINTS} (or unset it)` });
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
  const etcdTimeoutMs = parseSeconds('BOOTSTRAP_ETCD_TIMEOUT', env, DEFAULT_ETCD_TIMEOUT_SECONDS, problems);
  const watchIntervalMs = parseSeconds('BOOTSTRAP_WATCH_INTERVAL', env, DEFAULT_WATCH_INTERVAL_SECONDS, problems);
  if (problems.length > 0) throw new BootstrapError(problems);
  const settings: Settings = {
    etcd: tls === undefined ? { endpoints } : { endpoints, tls },
    etcdTimeoutMs,
    watchIntervalMs,
    templatePath: resolve(env.BOOTSTRAP_TEMPLATE || resolve(here, '../../../etc/config.yml')),
    configOut: resolve(env.BOOTSTRAP_CONFIG_OUT || DEFAULT_CONFIG_OUT),
    registryCli: resolve(env.BOOTSTRAP_REGISTRY_CLI || resolve(here, '../../registry/src/cli.js')),
  };
  if (env.BOOTSTRAP_STATE_DIR) settings.stateDir = resolve(env.BOOTSTRAP_STATE_DIR);
  return settings;
}
