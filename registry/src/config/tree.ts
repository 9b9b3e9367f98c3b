// The raw configuration as a tree of nodes that remember where they came from (a line of the file or an environment
// variable) and the source text of each scalar, so that validation can point at the culprit and read a string key
// exactly as distribution's YAML library would (`secret: 0755` is the string "0755", not the number 493).
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';

export type Origin = { line: number } | { env: string };

type ScalarValue = string | number | boolean | null;

export interface ScalarNode {
  kind: 'scalar';
  value: ScalarValue;
  /** The scalar as written (unquoted), e.g. "0.1" for `version: 0.1`. */
  text: string;
  origin: Origin;
}

export interface MapNode {
  kind: 'map';
  entries: Map<string, ConfigNode>;
  origin: Origin;
}

export interface SeqNode {
  kind: 'seq';
  items: ConfigNode[];
  origin: Origin;
}

export type ConfigNode = ScalarNode | MapNode | SeqNode;

export function describeOrigin(origin: Origin): string {
  return 'line' in origin ? `line ${origin.line}` : `env ${origin.env}`;
}

export function isNull(node: ConfigNode | undefined): boolean {
  return node === undefined || (node.kind === 'scalar' && node.value === null);
}

interface ParsedTree {
  root: ConfigNode | undefined;
  errors: string[];
}

const MERGE_KEY = '<<';

class Converter {
  readonly errors: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly originAt: (offset: number | undefined) => Origin,
  ) {}

  convert(node: unknown, origin: Origin, seen: Set<unknown> = new Set()): ConfigNode {
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (target === undefined || seen.has(target)) {
        this.errors.push(`YAML alias *${node.source} at ${describeOrigin(origin)} does not resolve to a node`);
        return nullScalar(origin);
      }
      return this.convert(target, origin, new Set(seen).add(target));
    }
    if (isMap(node)) {
      const entries = new Map<string, ConfigNode>();
      const merged: ConfigNode[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyOrigin = this.originAt(keyNode?.range?.[0]);
        if (!isScalar(keyNode)) {
          this.errors.push(`YAML key at ${describeOrigin(keyOrigin)} is not a plain name`);
          continue;
        }
        const key = scalarText(keyNode.value, keyNode.source);
        const value = this.convert(pair.value, keyOrigin, seen);
        if (key === MERGE_KEY && keyNode.type === 'PLAIN') merged.push(value);
        else entries.set(key, value);
      }
      // YAML 1.1 merge keys (`<<: *defaults`), which distribution's YAML library honours: explicit keys win.
      for (const source of merged.flatMap((m) => (m.kind === 'seq' ? m.items : [m]))) {
        if (source.kind !== 'map') {
          this.errors.push(`YAML merge key << at ${describeOrigin(source.origin)} must refer to a mapping`);
          continue;
        }
        for (const [key, value] of source.entries) if (!entries.has(key)) entries.set(key, value);
      }
      return { kind: 'map', entries, origin };
    }
    if (isSeq(node)) {
      const items = node.items.map((item) => this.convert(item, this.originAt((item as YamlNode | null)?.range?.[0] ?? node.range?.[0]), seen));
      return { kind: 'seq', items, origin };
    }
    if (isScalar(node)) {
      const { value, source } = node;
      const plain = value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      const text = scalarText(value, source);
      // Timestamps and binaries (YAML 1.1 types) are only ever read as strings here.
      return { kind: 'scalar', value: plain ? value : text, text, origin };
    }
    return nullScalar(origin);
  }
}

function scalarText(value: unknown, source: string | undefined): string {
  if (source !== undefined) return source;
  return value instanceof Date ? value.toISOString() : String(value);
}

export function nullScalar(origin: Origin): ScalarNode {
  return { kind: 'scalar', value: null, text: '', origin };
}

export function emptyMap(origin: Origin): MapNode {
  return { kind: 'map', entries: new Map(), origin };
}

/**
 * Parses one YAML document with YAML 1.1 rules, as distribution's go-yaml v2 does (`yes`/`no`/`on`/`off` are
 * booleans, `<<` merges). `originOf` turns a source offset into an origin; syntax errors come back with line and column.
 */
export function parseYaml(text: string, originOf: (line: number | undefined) => Origin): ParsedTree {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((err) => {
      const pos = err.linePos?.[0];
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      // The library appends its own " at line L, column C:" and a code frame; keep the sentence alone.
      const sentence = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return `YAML syntax error${at}: ${sentence}`;
    });
    return { root: undefined, errors };
  }
  const originAt = (offset: number | undefined): Origin => originOf(offset === undefined ? undefined : lineCounter.linePos(offset).line);
  const converter = new Converter(doc, originAt);
  const root = doc.contents === null ? undefined : converter.convert(doc.contents, originAt(doc.contents.range?.[0]));
  return { root, errors: converter.errors };
}
