// Shared first step for every etcd value: it must be a JSON object, or the SA gets told so with the fix.
import type { Problem } from './problem.js';
import { describeKey, type EtcdValue } from './keys.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a JSON value reads in a message: strings quoted, objects and arrays by kind. */
export function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object';
  return JSON.stringify(value) ?? String(value);
}

/** The value as a JSON object, or a problem saying why it is not one. */
export function parseObject(entry: EtcdValue, fix: string): { object: JsonObject } | { problem: Problem } {
  const source = describeKey(entry);
  if (entry.value.trim() === '') return { problem: { source, message: 'is empty (or an etcd directory), expected a JSON object', fix } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch (err) {
    const shown = entry.value.length > 120 ? `${entry.value.slice(0, 120)}…` : entry.value;
    return { problem: { source, message: `is not valid JSON (${(err as Error).message}): ${shown}`, fix } };
  }
  if (!isObject(parsed)) return { problem: { source, message: `must be a JSON object, got ${describeJson(parsed)}`, fix } };
  return { object: parsed };
}
