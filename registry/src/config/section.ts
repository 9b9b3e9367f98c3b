// Typed reads of one mapping of the raw tree. Every key a reader asks for becomes known; what is left over when the
// section is finished is reported as an unknown key, with a suggestion among the known ones.
import { parseDuration } from './duration.js';
import { describeOrigin, isNull, type ConfigNode, type MapNode, type Origin, type ScalarNode } from './tree.js';

export class Problems {
  readonly issues: string[] = [];
  readonly warnings: string[] = [];
}

function located(message: string, origin: Origin | undefined): string {
  return origin === undefined ? message : `${message} [${describeOrigin(origin)}]`;
}

/** How much of a value a message repeats: enough to recognise it, never a 10 MB line. */
const ECHO_LIMIT = 100;

function cut(text: string): { head: string; rest: string } {
  return text.length <= ECHO_LIMIT ? { head: text, rest: '' } : { head: text.slice(0, ECHO_LIMIT), rest: `... (${text.length} characters)` };
}

/** Text as a message shows it: as written, cut short when long. */
export function bounded(text: string): string {
  const { head, rest } = cut(text);
  return head + rest;
}

/** A string as a message quotes it: JSON-escaped, cut short when long. */
export function describeText(text: string): string {
  const { head, rest } = cut(text);
  return JSON.stringify(head) + rest;
}

export function describeValue(node: ConfigNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  return typeof node.value === 'string' ? describeText(node.value) : bounded(node.text);
}

/** Go's strconv.ParseBool, which distribution's storage drivers apply to string parameters. */
function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

export function suggest(key: string, candidates: Iterable<string>): string | undefined {
  const lower = key.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const name of candidates) {
    if (name === lower) return name;
    const prefix = lower.length >= 3 && (name.startsWith(lower) || lower.startsWith(name));
    const distance = editDistance(lower, name);
    if (!prefix && distance > Math.max(1, Math.floor(name.length / 3))) continue;
    const score = prefix ? 0 : distance;
    if (best === undefined || score < best.score) best = { name, score };
  }
  return best?.name;
}

interface SectionOptions {
  /** Strings for booleans and integers, as distribution's drivers accept in their free-form parameters. */
  lenient?: boolean;
  /** A plain string X stands for the mapping `{X: }`, as in `storage: inmemory` or `auth: htpasswd`. */
  shorthand?: boolean;
}

interface IntegerRange {
  min?: number;
  max?: number;
}

export class Section {
  private readonly known = new Set<string>();

  constructor(
    private readonly problems: Problems,
    /** Dotted key path of this section, '' at the top. */
    readonly path: string,
    private readonly node: MapNode | undefined,
    /** Where the section (or, when absent, its parent) was written, for "required" messages. */
    readonly origin: Origin | undefined,
    private readonly lenient = false,
  ) {}

  /** Whether the section was written at all (even empty). */
  get present(): boolean {
    return this.node !== undefined;
  }

  keyPath(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** Every key written, including those with a null value (`inmemory:`), each marked known. */
  keys(): string[] {
    const keys = [...(this.node?.entries.keys() ?? [])];
    for (const key of keys) this.known.add(key);
    return keys;
  }

  /** Where key was written, even with a null value. */
  originOf(key: string): Origin | undefined {
    return this.node?.entries.get(key)?.origin;
  }

  /** The node at key unless absent or null; marks the key known. */
  get(key: string): ConfigNode | undefined {
    this.known.add(key);
    const node = this.node?.entries.get(key);
    return isNull(node) ? undefined : node;
  }

  error(key: string | undefined, message: string, origin?: Origin): void {
    const path = key === undefined ? this.path || '(top level)' : this.keyPath(key);
    this.problems.issues.push(located(`${bounded(path)}: ${message}`, origin));
  }

  warn(key: string | undefined, message: string, origin?: Origin): void {
    const path = key === undefined ? this.path || '(top level)' : this.keyPath(key);
    this.problems.warnings.push(located(`${bounded(path)}: ${message}`, origin));
  }

  private wrongType(key: string, node: ConfigNode, expected: string, hint = ''): undefined {
    this.error(key, `expected ${expected}, got ${describeValue(node)}${hint}`, node.origin);
    return undefined;
  }

  private scalar(key: string, expected: string): ScalarNode | undefined {
    const node = this.get(key);
    if (node === undefined) return undefined;
    return node.kind === 'scalar' ? node : this.wrongType(key, node, expected);
  }

  string(key: string): string | undefined {
    const node = this.scalar(key, 'a string');
    if (node === undefined) return undefined;
    return typeof node.value === 'string' ? node.value : node.text;
  }

  /** A non-empty string; reports "required" otherwise and returns ''. */
  required(key: string): string {
    const value = this.string(key);
    if (value !== undefined && value !== '') return value;
    this.error(key, 'required', this.originOf(key) ?? this.origin);
    return '';
  }

  /** One of the allowed words, compared without regard to case (distribution lower-cases log levels). */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const node = this.scalar(key, `one of ${allowed.join(', ')}`);
    if (node === undefined) return fallback;
    const text = (typeof node.value === 'string' ? node.value : node.text).toLowerCase();
    const match = allowed.find((a) => a.toLowerCase() === text);
    if (match !== undefined) return match;
    this.error(key, `${describeValue(node)} is not one of ${allowed.join(', ')}`, node.origin);
    return fallback;
  }

  /** A boolean; fallback undefined keeps "not written" apart from false, for keys whose default depends on others. */
  boolean<F extends boolean | undefined>(key: string, fallback: F): boolean | F {
    const node = this.scalar(key, 'true or false');
    if (node === undefined) return fallback;
    if (typeof node.value === 'boolean') return node.value;
    const parsed = this.lenient && typeof node.value === 'string' ? parseGoBool(node.value) : undefined;
    if (parsed !== undefined) return parsed;
    const quoted = typeof node.value === 'string' && parseGoBool(node.value) !== undefined;
    this.wrongType(key, node, 'true or false', quoted ? ' (remove the quotes)' : '');
    return fallback;
  }

  integer(key: string, fallback: number, range: IntegerRange = {}): number {
    const node = this.scalar(key, 'an integer');
    if (node === undefined) return fallback;
    const digits = typeof node.value === 'string' && /^[+-]?\d+$/.test(node.value.trim());
    const value =
      typeof node.value === 'number' && Number.isSafeInteger(node.value) ? node.value : this.lenient && digits ? Number(node.value) : undefined;
    if (value === undefined) {
      this.wrongType(key, node, 'an integer', digits ? ' (remove the quotes)' : '');
      return fallback;
    }
    if (range.min !== undefined && value < range.min) {
      this.error(key, `${value} is too small (minimum ${range.min})`, node.origin);
      return fallback;
    }
    if (range.max !== undefined && value > range.max) {
      this.error(key, `${value} is too large (maximum ${range.max})`, node.origin);
      return fallback;
    }
    return value;
  }

  /** Milliseconds from Go duration text ("30s"); `positive` rejects 0 as well as negatives. */
  duration(key: string, fallback: number, { positive = false } = {}): number {
    const node = this.scalar(key, 'a duration');
    if (node === undefined) return fallback;
    // A bare number is nanoseconds to distribution, never what an operator means by `draintimeout: 30`.
    const ms = node.value === 0 ? 0 : typeof node.value === 'string' ? parseDuration(node.value.trim()) : undefined;
    if (ms === undefined) {
      this.error(key, `${describeValue(node)} is not a duration (use e.g. 30s, 5m)`, node.origin);
      return fallback;
    }
    if (ms < 0 || (positive && ms === 0)) {
      this.error(key, `${describeValue(node)} must be ${positive ? 'greater than 0' : 'zero or more'} (use e.g. 30s, 5m)`, node.origin);
      return fallback;
    }
    return ms;
  }

  stringList(key: string): string[] | undefined {
    const node = this.get(key);
    if (node === undefined) return undefined;
    if (node.kind !== 'seq') return this.wrongType(key, node, 'a list of strings');
    const out: string[] = [];
    node.items.forEach((item, i) => {
      if (item.kind === 'scalar' && item.value !== null) out.push(typeof item.value === 'string' ? item.value : item.text);
      else this.error(`${key}[${i}]`, `expected a string, got ${item.kind === 'scalar' ? 'nothing' : describeValue(item)}`, item.origin);
    });
    return out;
  }

  /** Reads the mapping at key with `read`, then reports its unknown keys. An absent section reads as empty. */
  section<T>(key: string, read: (section: Section) => T, options: SectionOptions = {}): T {
    let node = this.get(key);
    if (node !== undefined && node.kind === 'scalar' && options.shorthand && typeof node.value === 'string') {
      node = { kind: 'map', entries: new Map([[node.value, { kind: 'scalar', value: null, text: '', origin: node.origin }]]), origin: node.origin };
    }
    if (node !== undefined && node.kind !== 'map') this.wrongType(key, node, 'a mapping');
    const map = node?.kind === 'map' ? node : undefined;
    const origin = this.originOf(key) ?? this.origin;
    const child = new Section(this.problems, this.keyPath(key), map, origin, options.lenient ?? this.lenient);
    const result = read(child);
    child.finish();
    return result;
  }

  /** Reads each mapping of the list at key with `read`, reporting its unknown keys; an absent list reads as empty. */
  sectionList<T>(key: string, read: (section: Section) => T): T[] {
    const node = this.get(key);
    if (node === undefined) return [];
    if (node.kind !== 'seq') return this.wrongType(key, node, 'a list of mappings') ?? [];
    return node.items.flatMap((item, i) => {
      if (item.kind !== 'map') {
        this.error(`${key}[${i}]`, `expected a mapping, got ${describeValue(item)}`, item.origin);
        return [];
      }
      const child = new Section(this.problems, `${this.keyPath(key)}[${i}]`, item, item.origin, this.lenient);
      const result = read(child);
      child.finish();
      return [result];
    });
  }

  /** The entries of a free-form mapping (headers, log fields), every key accepted. */
  entries(): Array<[string, ConfigNode]> {
    return this.keys().flatMap((key) => {
      const node = this.get(key);
      return node === undefined ? [] : [[key, node] as [string, ConfigNode]];
    });
  }

  /** A key distribution knows and this registry does not implement: accepted, with a warning when it is set. */
  unsupported(key: string, consequence = 'ignored'): void {
    const node = this.get(key);
    if (node !== undefined) this.warn(key, `not supported by this registry; ${consequence}`, node.origin);
  }

  /** A key accepted without a word (distribution's compatibility section). */
  ignore(key: string): void {
    this.known.add(key);
  }

  finish(): void {
    for (const [key, node] of this.node?.entries ?? []) {
      if (this.known.has(key)) continue;
      const hint = suggest(key, this.known);
      const message = `unknown key ${bounded(this.keyPath(key))}${hint === undefined ? '' : ` (did you mean ${hint}?)`}; ignored`;
      this.problems.warnings.push(located(message, node.origin));
    }
  }
}
