// The code of a Markdown document as the doc tests see it: fenced blocks (with the info string that marks a runnable
// one) and inline code spans, each with the 1-based line it starts on, so a failure points into the doc.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: dist/test/docs/ -> ../../../ */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface FencedBlock {
  /** First word of the info string (`sh`, `yaml`, ''). */
  lang: string;
  /** The other words of the info string (`runnable`, `exit=1`). */
  attributes: string[];
  /** Line of the first line of code (the line after the opening fence). */
  line: number;
  code: string;
}

export interface InlineCode {
  line: number;
  code: string;
}

export interface Doc {
  /** Path relative to the repository root, as failures name it. */
  path: string;
  text: string;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;

/** Fenced code blocks (CommonMark: ``` or ~~~, up to 3 spaces of indent, closed by the same fence or longer). */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (open === null) continue;
    const [, indent, fence, info] = open;
    const words = info.trim().split(/\s+/).filter((w) => w !== '');
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = FENCE.exec(lines[j]);
      if (close !== null && close[2][0] === fence[0] && close[2].length >= fence.length && close[3].trim() === '') break;
      // Content lines lose up to the opening fence's indent, as in a list item.
      body.push(lines[j].replace(new RegExp(`^ {0,${indent.length}}`), ''));
    }
    blocks.push({ lang: words[0] ?? '', attributes: words.slice(1), line: i + 2, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** Inline code spans of the text outside fenced blocks (single-line spans, which is all the docs use). */
export function inlineCode(markdown: string): InlineCode[] {
  const lines = markdown.split('\n');
  const spans: InlineCode[] = [];
  let fence: string | undefined;
  lines.forEach((text, index) => {
    const marker = FENCE.exec(text);
    if (marker !== null && (fence === undefined || marker[2].startsWith(fence))) {
      fence = fence === undefined ? marker[2] : undefined;
      return;
    }
    if (fence !== undefined) return;
    for (const match of text.matchAll(/(`+)(.+?)\1/g)) spans.push({ line: index + 1, code: match[2].trim() });
  });
  return spans;
}

/** README.md and docs/*.md, the documents the tests hold to what they say. */
export async function readDocs(): Promise<Doc[]> {
  const names = (await readdir(join(REPO_ROOT, 'docs'))).filter((n) => n.endsWith('.md')).sort();
  const paths = ['README.md', ...names.map((n) => `docs/${n}`)];
  return Promise.all(paths.map(async (path) => ({ path, text: await readFile(join(REPO_ROOT, path), 'utf8') })));
}
