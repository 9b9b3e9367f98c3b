// registry garbage-collect [--dry-run] [--delete-untagged] [--min-age DURATION] [--upload-age DURATION] [--no-wait] [--quiet] <config.yml>
// Progress goes to stderr, what is (or would be) deleted and the summary to stdout; --quiet keeps only the summary.
// Safe on a live registry (docs/gc-online.md): it takes the fleet's lease `gc`, registers a collection, waits out
// its grace, and sweeps under it; a dry run plans the same collection and changes nothing, not even the lease.
import { constants, setPriority } from 'node:os';
import { formatDuration, parseDuration } from '../config/duration.js';
import type { Config } from '../config/types.js';
import { createCoordination } from '../coord/factory.js';
import type { Logger } from '../log.js';
import { formatDigest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { collectGarbage, GcError, type CollectOptions, type GcEvent, type GcSummary } from '../gc/collect.js';
import { GRACE_MS } from '../gc/protocol.js';
import { withStorage } from '../gc/offline.js';
import { announceGone, collectLive, CollectorBusyError, describeHolder, takeCollectorLease } from '../gc/online.js';
import { formatBytes } from '../gc/units.js';
import { parseCommandArgs } from './args.js';
import { CommandError, type Command } from './command.js';

const ARGS = '[--dry-run] [--delete-untagged] [--min-age DURATION] [--upload-age DURATION] [--no-wait] [--quiet] <config.yml>';
const USAGE = `registry garbage-collect ${ARGS}`;
const DEFAULT_MIN_AGE = '1h';
/** A client gives up on an upload within minutes; one started a day ago is abandoned (distribution's purger: 168h). */
const DEFAULT_UPLOAD_AGE = '24h';
/** A long run over a big bucket shows it is alive this often, without flooding a terminal. */
const PROGRESS_EVERY_MS = 1000;
/** Exit status when --no-wait finds another collector running (sysexits' EX_TEMPFAIL: try again later). */
export const EXIT_BUSY = 75;

function parseAge(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) {
    throw new CommandError(`${flag} ${text}: expected a duration such as 1h, 30m or 0s (0s turns the protection off)\nusage: ${USAGE}`, 2);
  }
  return ms;
}

function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

function repositories(count: number): string {
  return plural(count, 'repository', 'repositories');
}

function progressLine(event: GcEvent): string | undefined {
  if (event.kind === 'mark') return `marking: ${repositories(event.repositories)}, ${plural(event.manifests, 'manifest')} read (last: ${event.repository})`;
  if (event.kind === 'scan') return `scanning blobs: ${event.blobs} seen`;
  if (event.kind === 'sweep') return `sweeping: ${event.done}/${event.total}`;
  return undefined;
}

/** Progress on stderr at most once a second; the last state of each phase is always shown. */
class ProgressReporter {
  private last = 0;
  private unshown: string | undefined;
  private kind: GcEvent['kind'] | undefined;

  constructor(private readonly write: (line: string) => void) {}

  event(event: GcEvent): void {
    const line = progressLine(event);
    if (line === undefined) return;
    if (event.kind !== this.kind) this.flush();
    this.kind = event.kind;
    const now = Date.now();
    if (now - this.last >= PROGRESS_EVERY_MS) {
      this.write(`${line}\n`);
      this.last = now;
      this.unshown = undefined;
    } else {
      this.unshown = line;
    }
  }

  flush(): void {
    if (this.unshown !== undefined) this.write(`${this.unshown}\n`);
    this.unshown = undefined;
  }
}

function itemReporter(dryRun: boolean, write: (line: string) => void): (event: GcEvent) => void {
  const verb = dryRun ? 'would delete' : 'deleting';
  return (event) => {
    if (event.kind === 'manifest') write(`${verb} manifest ${event.repository}@${formatDigest(event.digest)}\n`);
    if (event.kind === 'blob') write(`${verb} blob ${formatDigest(event.digest)} (${formatBytes(event.size)})\n`);
    if (event.kind === 'upload') {
      const { repository, uuid, startedAt } = event.upload;
      write(`${verb} upload ${repository} ${uuid} (started ${startedAt.toISOString()})\n`);
    }
    if (event.kind === 'upload-unreadable') write(`keeping upload ${event.path}: its startedat is not a time\n`);
    if (event.kind === 'spared') {
      const what = event.repository === undefined ? `blob ${formatDigest(event.digest)}` : `manifest ${event.repository}@${formatDigest(event.digest)}`;
      write(`keeping ${what}: referenced during the collection\n`);
    }
  };
}

function formatSummary(s: GcSummary, minAge: string, uploadAge: string): string {
  const lines = [
    `${s.dryRun ? 'dry run, nothing deleted: ' : ''}${repositories(s.repositories)}, ` +
      `${plural(s.manifestsMarked, 'manifest')} and ${s.blobsMarked} of ${plural(s.blobsStored, 'stored blob')} marked`,
    `${s.dryRun ? 'would delete' : 'deleted'} ${plural(s.manifestsDeleted, 'manifest')}, ${plural(s.blobsDeleted, 'blob')} ` +
      `and ${plural(s.layerLinksDeleted, 'layer link')}: ${formatBytes(s.bytesFreed)} ${s.dryRun ? 'would be ' : ''}freed`,
  ];
  if (s.blobsProtected > 0 || s.manifestsProtected > 0) {
    lines.push(
      `kept for being younger than --min-age ${minAge}: ${plural(s.blobsProtected, 'unreferenced blob')} (${formatBytes(s.bytesProtected)}), ` +
        `${plural(s.manifestsProtected, 'untagged manifest')}`,
    );
  }
  lines.push(
    `${s.dryRun ? 'would delete' : 'deleted'} ${plural(s.uploadsDeleted, 'upload')} started more than --upload-age ${uploadAge} ago` +
      ` (${plural(s.uploadsKept, 'younger upload')} kept)`,
  );
  if (!s.dryRun) {
    lines.push(`kept, referenced during the collection: ${plural(s.manifestsSpared, 'manifest')}, ${plural(s.blobsSpared, 'blob')}`);
  }
  lines.push(`took ${(s.durationMs / 1000).toFixed(1)}s`);
  return lines.map((line) => `garbage-collect: ${line}\n`).join('');
}

interface Output {
  quiet: boolean;
  stderr(line: string): void;
  onEvent(event: GcEvent): void;
}

/**
 * The collection itself, on a live registry: the lease (waiting for another collector unless noWait), the
 * registration and its grace, the sweep, and the swept blobs announced to every process's cache.
 */
async function collectOnline(driver: StorageDriver, config: Config, logger: Logger, options: CollectOptions, noWait: boolean, out: Output): Promise<GcSummary> {
  // The registries serving beside it come first: a collection may take longer, a push should not.
  try {
    setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Lowering one's own priority is always allowed on Linux; elsewhere the collection runs at the usual one.
  }
  const coordination = await createCoordination(config, driver, logger, { poll: false });
  const gone: string[] = [];
  try {
    const lease = await takeCollectorLease(coordination.coord, !noWait, (holder) => {
      out.stderr(`waiting for another collection to finish: ${describeHolder(holder)} (--no-wait to exit instead)\n`);
    }).catch((err: unknown) => {
      if (err instanceof CollectorBusyError) throw new CommandError(`${err.message}; not waiting (--no-wait)`, EXIT_BUSY);
      throw err;
    });
    try {
      return await collectLive(driver, options, out.onEvent, {
        holder: coordination.coord.id,
        logger,
        signal: lease.signal,
        swept: gone,
        registered: (collection) => {
          if (!out.quiet) out.stderr(`collection ${collection.id} registered; waiting ${GRACE_MS / 1000}s for writes already under way\n`);
        },
      });
    } finally {
      await lease.release();
    }
  } finally {
    // Also after a failed sweep: whatever it deleted must leave the running registries' caches.
    try {
      await announceGone(coordination, gone).catch((err: unknown) => {
        out.stderr(`warning: could not tell the running registries which blobs were swept (${(err as Error).message}); a stale cache entry only makes a read slower\n`);
      });
    } finally {
      await coordination.close();
    }
  }
}

export const garbageCollect: Command = {
  usage: ARGS,
  summary: `delete blobs no manifest references (with --delete-untagged, untagged manifests too), safely while the registry serves; blobs younger than --min-age (default ${DEFAULT_MIN_AGE}) are kept; uploads started more than --upload-age (default ${DEFAULT_UPLOAD_AGE}) ago are deleted; one collector runs at a time (--no-wait: exit ${EXIT_BUSY} instead of waiting); see docs/maintenance.md`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        'dry-run': { type: 'boolean', default: false },
        'delete-untagged': { type: 'boolean', default: false },
        'min-age': { type: 'string', default: DEFAULT_MIN_AGE },
        'upload-age': { type: 'string', default: DEFAULT_UPLOAD_AGE },
        'no-wait': { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
      },
      USAGE,
    );
    if (positionals.length > 1) throw new CommandError(`one config file expected, got ${positionals.join(' ')}\nusage: ${USAGE}`, 2);
    const minAgeMs = parseAge('--min-age', values['min-age']);
    const uploadAgeMs = parseAge('--upload-age', values['upload-age']);
    const dryRun = values['dry-run'];
    const quiet = values.quiet;
    const stderr = (line: string) => process.stderr.write(line);
    const stdout = (line: string) => process.stdout.write(line);
    return withStorage(positionals[0], USAGE, async (driver, config, logger) => {
      const progress = new ProgressReporter(quiet ? () => undefined : stderr);
      const items = quiet ? () => undefined : itemReporter(dryRun, stdout);
      const onEvent = (event: GcEvent) => {
        progress.event(event);
        items(event);
      };
      const options = { dryRun, deleteUntagged: values['delete-untagged'], minAgeMs, uploadAgeMs };
      let summary: GcSummary;
      try {
        summary = dryRun
          ? await collectGarbage(driver, options, onEvent)
          : await collectOnline(driver, config, logger, options, values['no-wait'], { quiet, stderr, onEvent });
      } catch (err) {
        progress.flush();
        if (!(err instanceof GcError)) throw err;
        const deleted = `${plural(err.deleted.manifests, 'manifest')} and ${plural(err.deleted.blobs, 'blob')} that nothing referenced`;
        const where =
          err.phase === 'mark'
            ? 'while marking; nothing was deleted'
            : err.phase === 'sweep'
              ? `while sweeping, after deleting ${deleted}`
              : `while deleting abandoned uploads, after deleting ${deleted}`;
        throw new CommandError(`garbage collection failed ${where}: ${err.message}`);
      }
      progress.flush();
      stdout(formatSummary(summary, formatDuration(minAgeMs), formatDuration(uploadAgeMs)));
      return 0;
    });
  },
};
