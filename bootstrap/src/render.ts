// Template + etcd values -> the config.yml the registry is started with, validated by the registry's own validator.
// Each problem is traced back to where the SA can fix it: an etcd key, the template, a file, or an env variable.
import { isMap, isScalar, type Document } from 'yaml';
import type { ConfigFileError } from '../../registry/src/config/config-file.js';
import { checkFiles, fileContents } from '../../registry/src/config/files.js';
import { ConfigError, parseConfig } from '../../registry/src/config/load.js';
import { STORAGE_SECTIONS } from '../../registry/src/config/storage.js';
import type { Config } from '../../registry/src/config/types.js';
import { DEFAULT_ROOTCERTBUNDLE, parseAuthKey, type TokenSection } from './auth-key.js';
import type { EtcdSnapshot } from './etcd.js';
import { isObject, type JsonObject } from './json-value.js';
import { AUTH_KEY, STORAGE_KEY, describeKey, etcdctlSet, type EtcdValue } from './keys.js';
import { BootstrapError, type Problem } from './problem.js';
import { parseStorageKey, storageFix, type StorageOverride } from './storage-key.js';
import { templateFix, type Template } from './template.js';

export interface Rendered {
  /** The config.yml text handed to `registry serve`. */
  text: string;
  /** What the registry will run with, REGISTRY_* overrides applied. */
  config: Config;
  warnings: string[];
}

/** Which parts of the rendered config came from etcd, to attribute the validator's findings. */
interface FromEtcd {
  auth?: { entry: EtcdValue; token: TokenSection };
  storage?: { entry: EtcdValue; override: StorageOverride };
}

interface Issue {
  path: string[];
  message: string;
  env?: string;
  line?: number;
}

// The registry validator's issues read "storage.s3.bucket: required [line 9]" or "... [env REGISTRY_X]".
const ISSUE = /^(?<path>[^\s:]+): (?<message>.*?)(?: \[(?:line (?<line>\d+)|env (?<env>[A-Za-z0-9_]+))\])?$/s;

function parseIssue(text: string): Issue {
  const match = ISSUE.exec(text);
  if (match?.groups === undefined) return { path: [], message: text };
  const { path, message, line, env } = match.groups;
  const issue: Issue = { path: path.split('.'), message };
  if (line !== undefined) issue.line = Number(line);
  if (env !== undefined) issue.env = env;
  return issue;
}

function hasPath(value: JsonObject, path: string[]): boolean {
  let node: unknown = value;
  for (const segment of path) {
    if (!isObject(node) || !(segment in node)) return false;
    node = node[segment];
  }
  return true;
}

/** The value with the field at `path` replaced by a placeholder the SA fills in. */
function withPlaceholder(value: JsonObject, path: string[]): JsonObject {
  const [head, ...rest] = path;
  const child = value[head];
  return { ...value, [head]: rest.length === 0 ? `<${head}>` : withPlaceholder(isObject(child) ? child : {}, rest) };
}

/** Where a text came from, to name it in messages, and what fixes a finding in it that no etcd key explains. */
export interface TextOrigin {
  where: string;
  fix: string;
}

export function templateOrigin(path: string, rendered: boolean): TextOrigin {
  return {
    where: rendered ? `template ${path} rendered with etcd` : `template ${path}`,
    fix: templateFix(path),
  };
}

function attribute(issue: Issue, fromEtcd: FromEtcd, origin: TextOrigin): Problem {
  // A value set by a REGISTRY_* variable, or a conflict that names one (e.g. a second storage driver).
  const variables = issue.env !== undefined ? [issue.env] : [...new Set(issue.message.match(/\bREGISTRY_[A-Z0-9_]+/g) ?? [])];
  if (variables.length > 0) {
    return { source: `environment variable ${variables.join(', ')}`, message: `${issue.path.join('.')}: ${issue.message}`, fix: `correct or unset ${variables.join(', ')}` };
  }
  const [section, ...inner] = issue.path;
  const storage = fromEtcd.storage;
  const etcdStorage = storage !== undefined && inner.length > 0 && (inner[0] === storage.override.driver?.name || hasPath(storage.override.value, inner));
  if (section === 'storage' && storage !== undefined && etcdStorage) {
    return { source: describeKey(storage.entry), field: inner.join('.'), message: issue.message, fix: storageFix(storage.entry, withPlaceholder(storage.override.value, inner)) };
  }
  const auth = fromEtcd.auth;
  if (section === 'auth' && auth !== undefined && inner[0] === 'token') {
    const field = inner.slice(1).join('.');
    const value: JsonObject = { ...auth.token };
    if (field !== '') delete value[inner[1]];
    return { source: describeKey(auth.entry), field, message: issue.message, fix: etcdctlSet(AUTH_KEY, value, auth.entry.api) };
  }
  const at = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return { source: origin.where, message: `${issue.path.join('.')}: ${issue.message}${at}`, fix: origin.fix };
}

/** Runs the registry's validator; its issues become problems named after where each value came from. */
export function validate(text: string, env: NodeJS.ProcessEnv, origin: TextOrigin, fromEtcd: FromEtcd = {}): { config: Config; warnings: string[] } {
  try {
    return parseConfig(text, env, origin.where);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new BootstrapError(err.issues.map((issue) => attribute(parseIssue(issue), fromEtcd, origin)));
  }
}

/** A storage override's driver replaces the template's; its sections merge leaf by leaf. */
function applyStorage(doc: Document, override: StorageOverride): void {
  if (override.driver !== undefined) {
    const storage = doc.get('storage', true);
    if (isMap(storage)) {
      for (const item of [...storage.items]) {
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        if (!STORAGE_SECTIONS.includes(key)) storage.delete(key);
      }
    }
    doc.setIn(['storage', override.driver.name], doc.createNode(override.driver.params));
  }
  const merge = (path: string[], value: JsonObject): void => {
    for (const [key, child] of Object.entries(value)) {
      const at = [...path, key];
      if (isObject(child) && isMap(doc.getIn(at, true))) merge(at, child);
      else doc.setIn(at, doc.createNode(child));
    }
  };
  merge(['storage'], override.sections);
}

/**
 * A file the rendered config names that the registry could not use. A path from the auth key is fixed in etcd (or by
 * mounting the file); any other is attributed like a validator issue.
 */
function fileProblem(err: ConfigFileError, fromEtcd: FromEtcd, origin: TextOrigin): Problem {
  const auth = fromEtcd.auth;
  const field = err.key.startsWith('auth.token.') ? err.key.slice('auth.token.'.length) : undefined;
  if (auth === undefined || field === undefined) return attribute(parseIssue(err.message), fromEtcd, origin);
  const theDefault = field === 'rootcertbundle' && err.path === DEFAULT_ROOTCERTBUNDLE ? ', the default' : '';
  return {
    source: `file ${err.path} (${field} of ${describeKey(auth.entry)}${theDefault})`,
    message: err.reason,
    fix: `mount ${fileContents(err.key)} at ${err.path}, or point the key at where it is: ${etcdctlSet(AUTH_KEY, { ...auth.token, [field]: '<path of the file>' }, auth.entry.api)}`,
  };
}

/**
 * Renders `template` (already validated on its own, so that its findings carry its own line numbers) with etcd's
 * values; throws a BootstrapError listing every problem found.
 */
export async function renderConfig(template: Template, snapshot: EtcdSnapshot, env: NodeJS.ProcessEnv): Promise<Rendered> {
  const problems: Problem[] = [];
  const fromEtcd: FromEtcd = {};
  const authEntry = snapshot.get(AUTH_KEY);
  if (authEntry !== undefined) {
    const token = parseAuthKey(authEntry);
    if (Array.isArray(token)) problems.push(...token);
    else fromEtcd.auth = { entry: authEntry, token };
  }
  const storageEntry = snapshot.get(STORAGE_KEY);
  if (storageEntry !== undefined) {
    const override = parseStorageKey(storageEntry);
    if (Array.isArray(override)) problems.push(...override);
    else fromEtcd.storage = { entry: storageEntry, override };
  }
  if (problems.length > 0) throw new BootstrapError(problems);

  const doc = template.doc.clone();
  // The key replaces whatever auth the template has; without the key the template's own auth (none in LAIN's) stays.
  if (fromEtcd.auth !== undefined) doc.set('auth', doc.createNode({ token: fromEtcd.auth.token }));
  if (fromEtcd.storage !== undefined) applyStorage(doc, fromEtcd.storage.override);
  const text = doc.toString();

  const origin = templateOrigin(template.path, true);
  const { config, warnings } = validate(text, env, origin, fromEtcd);
  for (const entry of snapshot.values()) {
    if (entry.shadowsV2 === true) {
      warnings.push(`${entry.key} is set in both the v3 and the v2 keyspace with different values; using the v3 value (etcdctl put) and ignoring the v2 one (etcdctl set)`);
    }
  }
  const files = await checkFiles(config);
  if (files.length > 0) throw new BootstrapError(files.map((err) => fileProblem(err, fromEtcd, origin)));
  return { text, config, warnings };
}

