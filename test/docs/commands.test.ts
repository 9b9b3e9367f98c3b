// Rules every command in README.md and docs/*.md keeps, runnable or not: an SA pastes them on a production host,
// where a wrong guess costs data.
import { expect } from 'chai';
import { fencedBlocks, inlineCode, readDocs, type Doc } from './markdown.js';

interface Command {
  line: number;
  text: string;
}

const SHELL = new Set(['sh', 'bash', 'shell']);

/** The line without its comment: a # at the start or after a blank, outside quotes. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** The commands of the doc's shell blocks in order, a backslash-continued command joined into one. */
function shellCommands(doc: Doc): Command[] {
  const commands: Command[] = [];
  for (const block of fencedBlocks(doc.text).filter((b) => SHELL.has(b.lang))) {
    let pending: Command | undefined;
    block.code.split('\n').forEach((raw, i) => {
      const line = withoutComment(raw).trim();
      const continued = line.endsWith('\\');
      const text = continued ? line.slice(0, -1).trim() : line;
      pending = pending === undefined ? { line: block.line + i, text } : { line: pending.line, text: `${pending.text} ${text}` };
      if (continued) return;
      if (pending.text !== '') commands.push(pending);
      pending = undefined;
    });
  }
  return commands;
}

/** Every line of code in the doc: fenced blocks line by line, and inline spans. */
function codeLines(doc: Doc): Command[] {
  const fenced = fencedBlocks(doc.text).flatMap((b) => b.code.split('\n').map((text, i) => ({ line: b.line + i, text })));
  const inline = inlineCode(doc.text).map(({ line, code }) => ({ line, text: code }));
  return [...fenced, ...inline];
}

// `etcdctl <subcommand> <argument>`: a command to run, not a mention such as "`etcdctl set` is the v2 API".
const ETCDCTL_COMMAND = /\betcdctl\s+(?:--\S+\s+)*[a-z][a-z-]*\s+\S/g;
const API_NAMED = /ETCDCTL_API=[23]\s+(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*$/;

function etcdctlWithoutApi(doc: Doc): string[] {
  const found: string[] = [];
  for (const { line, text } of codeLines(doc)) {
    for (const match of text.matchAll(ETCDCTL_COMMAND)) {
      if (!API_NAMED.test(text.slice(0, match.index))) found.push(`${doc.path}:${line}: ${text.trim()}`);
    }
  }
  return found;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** A dry run whose next command is not the same command without --dry-run previews something else than what runs. */
function dryRunsPreviewingSomethingElse(doc: Doc): string[] {
  const commands = shellCommands(doc);
  const found: string[] = [];
  commands.forEach((command, i) => {
    const dry = words(command.text);
    if (!dry.includes('--dry-run')) return;
    const expected = dry.filter((w) => w !== '--dry-run').join(' ');
    const next = commands[i + 1];
    if (next === undefined || words(next.text).join(' ') !== expected) {
      found.push(`${doc.path}:${command.line}: "${command.text}" is followed by ${next === undefined ? 'nothing' : `"${next.text}" (line ${next.line})`}, not by "${expected}"`);
    }
  });
  return found;
}

const docs = await readDocs();

describe('docs: commands say what they do', function () {
  it('every etcdctl command names its API (ETCDCTL_API=2 etcdctl set, ETCDCTL_API=3 etcdctl put)', function () {
    expect(docs.flatMap(etcdctlWithoutApi)).to.deep.equal([]);
  });

  it('every dry run is followed by the same command without --dry-run, so it previews what then runs', function () {
    expect(docs.flatMap(dryRunsPreviewingSomethingElse)).to.deep.equal([]);
  });
});
