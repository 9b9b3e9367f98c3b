// The config.yml template (distribution format) that etcd's values are merged into. It is kept as a YAML document,
// not a plain object, so everything bootstrap does not touch is rendered exactly as written, comments included.
import { readFile } from 'node:fs/promises';
import { isMap, parseDocument, type Document } from 'yaml';
import { BootstrapError, errorCode } from './problem.js';

export interface Template {
  path: string;
  text: string;
  doc: Document;
}

export function templateFix(path: string): string {
  return `correct ${path} (a distribution config.yml, version 0.1), or point BOOTSTRAP_TEMPLATE at one`;
}

export async function loadTemplate(path: string): Promise<Template> {
  const source = `template ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BootstrapError([{ source, message: `cannot be read (${errorCode(err)})`, fix: templateFix(path) }]);
  }
  // YAML 1.1, as distribution's go-yaml v2 reads config.yml.
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new BootstrapError(
      doc.errors.map((err) => {
        const pos = err.linePos?.[0];
        return { source, message: `is not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${err.message.split('\n')[0]}`, fix: templateFix(path) };
      }),
    );
  }
  if (!isMap(doc.contents)) throw new BootstrapError([{ source, message: 'is not a YAML mapping', fix: templateFix(path) }]);
  return { path, text, doc };
}

