// /lain/config/registry/storage: a JSON object in the shape of distribution's `storage` section. Its driver (at most
// one) replaces the template's; its other sections merge into the template's key by key.
import { DRIVERS, STORAGE_SECTIONS } from '../../registry/src/config/storage.js';
import { suggest } from '../../registry/src/config/section.js';
import type { Problem } from './problem.js';
import { S3_EXAMPLE, STORAGE_KEY, describeKey, etcdctlRm, etcdctlSet, etcdctlSetExample, type EtcdValue } from './keys.js';
import { describeJson, isObject, parseObject, type JsonObject } from './json-value.js';

export interface StorageOverride {
  /** The whole value as the SA wrote it, for fix commands. */
  value: JsonObject;
  driver?: { name: string; params: JsonObject };
  /** delete, maintenance, cache, redirect, ...: merged into the template's. */
  sections: JsonObject;
}

/** Parameters that are never echoed back in a message or a fix command. */
const SECRET_PARAMS = new Set(['secretkey', 'accesskeysecret', 'sessiontoken', 'password']);

/** The value with secrets replaced by placeholders, fit to print in a log line. */
export function maskStorageValue(value: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_PARAMS.has(k) ? `<${k}>` : isObject(v) ? maskStorageValue(v) : v]),
  );
}

function without(value: JsonObject, key: string): JsonObject {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
}

/** A command with a note and the local-disk alternative as a shell comment, so that the line pastes as it is. */
function withLocalDisk(entry: EtcdValue, command: string, note?: string): string {
  return `${command}  # ${note === undefined ? '' : `${note}; `}or, for local disk: ${etcdctlRm(STORAGE_KEY, entry.api)}`;
}

export function storageFix(entry: EtcdValue, value: JsonObject, note?: string): string {
  return withLocalDisk(entry, etcdctlSet(STORAGE_KEY, maskStorageValue(value), entry.api), note);
}

export function parseStorageKey(entry: EtcdValue): StorageOverride | Problem[] {
  const result = parseObject(entry, withLocalDisk(entry, etcdctlSetExample(STORAGE_KEY, entry.api)));
  if ('problem' in result) return [result.problem];
  const parsed = result.object;
  const source = describeKey(entry);

  const sections: JsonObject = {};
  const drivers: string[] = [];
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (STORAGE_SECTIONS.includes(name)) {
      if (isObject(value)) sections[name] = value;
      else problems.push({ source, field: name, message: `expected a JSON object, got ${describeJson(value)}`, fix: storageFix(entry, { ...parsed, [name]: {} }) });
    } else if ((DRIVERS as readonly string[]).includes(name)) {
      drivers.push(name);
      // distribution writes a parameterless driver as `inmemory:`, i.e. null.
      if (!isObject(value) && !(value === null && name === 'inmemory')) {
        problems.push({ source, field: name, message: `expected a JSON object of ${name} parameters, got ${describeJson(value)}`, fix: storageFix(entry, { ...parsed, [name]: name === 's3' ? S3_EXAMPLE : {} }) });
      }
    } else {
      const near = suggest(name, [...DRIVERS, ...STORAGE_SECTIONS]);
      const replacement = near ?? 's3';
      problems.push({
        source,
        field: name,
        message: `unknown storage driver or setting${near === undefined ? '' : ` (did you mean "${near}"?)`}; drivers: ${DRIVERS.join(', ')}; settings: ${STORAGE_SECTIONS.join(', ')}`,
        fix: storageFix(entry, { ...without(parsed, name), [replacement]: isObject(value) && near !== undefined ? value : replacement === 's3' ? S3_EXAMPLE : {} }),
      });
    }
  }
  if (drivers.length > 1) {
    const [keep, ...drop] = drivers;
    const kept = drop.reduce(without, parsed);
    problems.push({ source, field: drivers.join(', '), message: `names ${drivers.length} storage drivers (${drivers.join(', ')}); exactly one is allowed`, fix: storageFix(entry, kept, `keeps one driver, ${keep}`) });
  }
  if (problems.length > 0) return problems;
  if (drivers.length === 0) return { value: parsed, sections };
  const name = drivers[0];
  const params = parsed[name];
  return { value: parsed, driver: { name, params: isObject(params) ? params : {} }, sections };
}
