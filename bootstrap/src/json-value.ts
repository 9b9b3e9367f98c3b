// Shared first step for every etcd value: it must be a JSON object of bounded size and depth, or the SA gets told so
// with the fix. Whatever of a value a message echoes is clipped, so a pathological value never makes a huge log line.
import type { Problem } from './problem.js';
import { MAX_VALUE_BYTES, describeKey, type EtcdValue } from './keys.js';

export type JsonObject = Record<string, unknown>;

/**
 * Nesting far beyond any auth or storage value (those nest 3 levels); past it the value is refused before it is
 * parsed, so that nothing downstream (YAML, the validator) recurses without bound.
 */
export const MAX_DEPTH = 32;
/** How much of a value a message echoes. */
const SHOWN = 120;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** At most SHOWN characters of `text`, then how long it was. */
export function clip(text: string, max = SHOWN): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** How a JSON value reads in a message: strings quoted (and clipped), objects and arrays by kind. */
export function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object';
  return clip(JSON.stringify(value) ?? String(value));
}

/** Whether arrays and objects in JSON text nest deeper than `limit`, found by scanning, without parsing it. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      if (++depth > limit) return true;
    } else if (c === '}' || c === ']') {
      depth--;
    }
  }
  return false;
}

/** The value as a JSON object, or a problem saying why it is not one. */
export function parseObject(entry: EtcdValue, fix: string): { object: JsonObject } | { problem: Problem } {
  const source = describeKey(entry);
  if (entry.tooLarge !== undefined) {
    return { problem: { source, message: `is larger than ${MAX_VALUE_BYTES / 1024} KiB (${entry.tooLarge} bytes), the most bootstrap reads of one value; it was not read`, fix } };
  }
  if (entry.value.trim() === '') return { problem: { source, message: 'is empty (or an etcd directory), expected a JSON object', fix } };
  if (nestsDeeperThan(entry.value, MAX_DEPTH)) {
    return { problem: { source, message: `nests arrays and objects more than ${MAX_DEPTH} levels deep; it was not parsed: ${clip(entry.value)}`, fix } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch (err) {
    return { problem: { source, message: `is not valid JSON (${clip((err as Error).message)}): ${clip(entry.value)}`, fix } };
  }
  if (!isObject(parsed)) return { problem: { source, message: `must be a JSON object, got ${describeJson(parsed)}`, fix } };
  return { object: parsed };
}
