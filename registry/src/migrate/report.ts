// How a migration reads on a terminal: throttled progress for stderr, one line per item and the summary for stdout.
import { formatDigest } from '../storage/digest.js';
import { formatBytes } from '../gc/units.js';
import type { MigrateEvent, MigrateSummary } from './migrate.js';

/** A long copy shows it is alive this often, without flooding a terminal. */
const PROGRESS_EVERY_MS = 1000;

/** Progress on stderr at most once a second; flush() shows the last state. */
export class ProgressReporter {
  private last = 0;
  private unshown: string | undefined;
  private repository = '';
  private position = '';
  private blobs = 0;
  private bytes = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly dryRun: boolean,
  ) {}

  event(event: MigrateEvent): void {
    if (event.kind === 'repository') {
      this.repository = event.name;
      this.position = `${event.index + 1}/${event.total}`;
    } else if (event.kind === 'blob') {
      this.blobs++;
      if (event.outcome.kind === 'copied' || event.outcome.kind === 'would-copy') this.bytes += event.outcome.size;
    } else {
      return;
    }
    const line = `repository ${this.position} ${this.repository}: ${this.blobs} blobs handled, ${formatBytes(this.bytes)} ${this.dryRun ? 'to copy' : 'copied'}\n`;
    const now = Date.now();
    if (now - this.last >= PROGRESS_EVERY_MS) {
      this.write(line);
      this.last = now;
      this.unshown = undefined;
    } else {
      this.unshown = line;
    }
  }

  flush(): void {
    if (this.unshown !== undefined) this.write(this.unshown);
    this.unshown = undefined;
  }
}

/** Whether the event reports something of the source that was left out. */
export function isProblem(event: MigrateEvent): boolean {
  return event.kind === 'not-copied' || (event.kind === 'blob' && (event.outcome.kind === 'missing' || event.outcome.kind === 'corrupt'));
}

/** The line an item event prints, if any: what was (or would be) written, and what was left out and why. */
export function itemLine(event: MigrateEvent, dryRun: boolean): string | undefined {
  if (event.kind === 'blob') {
    const digest = formatDigest(event.digest);
    const { outcome } = event;
    if (outcome.kind === 'copied' || outcome.kind === 'would-copy') return `${dryRun ? 'would copy' : 'copied'} blob ${digest} (${formatBytes(outcome.size)})`;
    if (outcome.kind === 'missing') return `NOT COPIED blob ${digest} (${event.repository}): missing at the source`;
    if (outcome.kind === 'corrupt') return `NOT COPIED blob ${digest} (${event.repository}): its content at the source hashes to ${outcome.actual}`;
    return undefined;
  }
  if (event.kind === 'link') return `${dryRun ? 'would write' : 'wrote'} ${event.link} ${event.what}`;
  if (event.kind === 'not-copied') return `NOT COPIED ${event.link} ${event.what}: ${event.reason}`;
  return undefined;
}

function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

export function formatSummary(s: MigrateSummary): string {
  const lines = [
    `${s.dryRun ? 'dry run, nothing written: ' : ''}${plural(s.repositories, 'repository', 'repositories')}`,
    `blobs: ${s.blobsCopied} ${s.dryRun ? 'to copy' : 'copied'} (${formatBytes(s.bytesCopied)}), ${s.blobsPresent} already at the destination, ` +
      `${s.blobsFailed.size} not copied`,
    `links: ${s.linksWritten} ${s.dryRun ? 'to write' : 'written'}, ${s.linksUnchanged} already in place, ${s.notCopied.length} left out`,
    `took ${(s.durationMs / 1000).toFixed(1)}s`,
  ];
  if (s.blobsFailed.size > 0 || s.notCopied.length > 0) {
    lines.push('INCOMPLETE: fix the source content named by the NOT COPIED lines (restore it from a backup, or delete the manifests that need it) and run migrate again');
  }
  return lines.map((line) => `migrate: ${line}\n`).join('');
}
