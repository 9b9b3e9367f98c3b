// REGISTRY_<PATH> environment overrides, applied to the raw tree the way distribution's configuration parser does:
// the variables are applied in lexical order of their names (so REGISTRY_STORAGE=s3 lands before
// REGISTRY_STORAGE_S3_REGION fills it), each `_` descends one level, names match keys without regard to case, missing
// levels are created, a numeric segment indexes a list, and the value is read as YAML (`true` is a boolean, an empty
// value unsets the key). A variable under an unknown top-level key is ignored with a warning; deeper unknown paths are
// applied and validation warns about them, naming the variable.
import { describeValue, suggest, type Problems } from './section.js';
import { STORAGE_SECTIONS } from './storage.js';
import { TOP_LEVEL_KEYS } from './validate.js';
import { describeOrigin, emptyMap, isNull, nullScalar, parseYaml, type ConfigNode, type MapNode, type Origin, type SeqNode } from './tree.js';

const ENV_PREFIX = 'REGISTRY_';

/** Sections whose plain-string form names a type: `storage: s3`, `auth: htpasswd`. */
const SHORTHAND = new Set(['storage', 'auth']);

type Container = MapNode | SeqNode;

function matchKey(map: MapNode, segment: string): string {
  if (map.entries.has(segment)) return segment;
  return [...map.entries.keys()].find((key) => key.toLowerCase() === segment) ?? segment;
}

/** A new level for the rest of the path: a list when the next segment is an index (REGISTRY_HTTP_TLS_CLIENTCAS_0). */
function newLevel(next: string, origin: Origin): Container {
  return /^\d+$/.test(next) ? { kind: 'seq', items: [], origin } : emptyMap(origin);
}

class EnvVar {
  readonly origin: Origin;
  readonly path: string[];

  constructor(
    readonly name: string,
    private readonly problems: Problems,
  ) {
    this.origin = { env: name };
    this.path = name.slice(ENV_PREFIX.length).split('_').map((s) => s.toLowerCase());
  }

  fail(message: string): undefined {
    this.problems.issues.push(`${this.name}: ${message}`);
    return undefined;
  }

  /** Index into a list for segment i, or undefined (with an issue) when the segment cannot be one. */
  private index(list: SeqNode, i: number): number | undefined {
    const segment = this.path[i];
    const at = this.path.slice(0, i).join('.');
    if (!/^\d+$/.test(segment)) return this.fail(`${at} is a list; ${segment} is not an index`);
    const idx = Number(segment);
    if (idx > list.items.length) return this.fail(`${at} has ${list.items.length} items; index ${idx} would leave a gap`);
    return idx;
  }

  /** What is at segment i of parent and how to replace it; undefined (with an issue) for a bad list index. */
  private slot(parent: Container, i: number): { existing: ConfigNode | undefined; put(node: ConfigNode): void } | undefined {
    if (parent.kind === 'map') {
      const key = matchKey(parent, this.path[i]);
      return { existing: parent.entries.get(key), put: (node) => parent.entries.set(key, node) };
    }
    const idx = this.index(parent, i);
    if (idx === undefined) return undefined;
    return { existing: parent.items[idx], put: (node) => (parent.items[idx] = node) };
  }

  /** The container for segment i+1, creating or expanding what is at segment i. */
  private descend(parent: Container, i: number): Container | undefined {
    const slot = this.slot(parent, i);
    if (slot === undefined) return undefined;
    const { existing } = slot;
    let level: Container;
    // A level written empty in the file (`htpasswd:`) keeps that origin, so messages point at it.
    if (existing === undefined || isNull(existing)) level = newLevel(this.path[i + 1], existing?.origin ?? this.origin);
    else if (existing.kind !== 'scalar') return existing;
    else if (i === 0 && SHORTHAND.has(this.path[0]) && typeof existing.value === 'string') {
      level = { kind: 'map', entries: new Map([[existing.value, nullScalar(existing.origin)]]), origin: existing.origin };
    } else {
      const at = this.path.slice(0, i + 1).join('.');
      return this.fail(`cannot set ${this.path.join('.')}: ${at} is ${describeValue(existing)} [${describeOrigin(existing.origin)}], not a mapping`);
    }
    slot.put(level);
    return level;
  }

  apply(root: MapNode, value: ConfigNode): void {
    let container: Container | undefined = root;
    for (let i = 0; i < this.path.length - 1 && container !== undefined; i++) container = this.descend(container, i);
    if (container === undefined) return;
    const last = this.path.length - 1;
    if (container === root && this.path[0] === 'storage') replaceDriver(root, value);
    else this.slot(container, last)?.put(value);
  }
}

/**
 * REGISTRY_STORAGE=s3 swaps the driver and keeps the file's delete, maintenance, cache and redirect sections
 * (distribution replaces the whole storage section, silently turning delete off and upload purging on).
 */
function replaceDriver(root: MapNode, value: ConfigNode): void {
  const key = matchKey(root, 'storage');
  const current = root.entries.get(key);
  const replacement: ConfigNode =
    value.kind === 'scalar' && typeof value.value === 'string'
      ? { kind: 'map', entries: new Map([[value.value, nullScalar(value.origin)]]), origin: value.origin }
      : value;
  if (replacement.kind !== 'map' || current?.kind !== 'map') {
    root.entries.set(key, replacement);
    return;
  }
  const merged = emptyMap(replacement.origin);
  for (const [name, node] of current.entries) if (STORAGE_SECTIONS.includes(name)) merged.entries.set(name, node);
  for (const [name, node] of replacement.entries) merged.entries.set(name, node);
  root.entries.set(key, merged);
}

export function applyEnv(root: MapNode, env: NodeJS.ProcessEnv, problems: Problems): void {
  // Lexical order, as distribution sorts them: a section variable comes before the variables of its keys.
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX))
    .sort();
  for (const name of names) {
    const variable = new EnvVar(name, problems);
    if (variable.path.some((segment) => segment === '')) {
      problems.warnings.push(`${name}: does not name a configuration key; ignored`);
      continue;
    }
    if (!TOP_LEVEL_KEYS.includes(variable.path[0])) {
      const hint = suggest(variable.path[0], TOP_LEVEL_KEYS);
      problems.warnings.push(`${name}: unknown key ${variable.path.join('.')}${hint === undefined ? '' : ` (did you mean ${hint}?)`}; ignored`);
      continue;
    }
    if (variable.path[0] === 'version') {
      problems.warnings.push(`${name}: the version comes from the file only; ignored`);
      continue;
    }
    const parsed = parseYaml(env[name] ?? '', () => variable.origin);
    if (parsed.errors.length > 0) {
      variable.fail(`value is not valid YAML (quote it?): ${parsed.errors.join('; ')}`);
      continue;
    }
    variable.apply(root, parsed.root ?? nullScalar(variable.origin));
  }
}
