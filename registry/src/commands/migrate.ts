// registry migrate [--dry-run] [--quiet] <from.yml> <to.yml>
// Copies every repository from the storage of one config to the storage of another (see docs/migrate.md).
// Progress goes to stderr; what is (or would be) copied, what could not be, and the summary go to stdout.
import { isDeepStrictEqual } from 'node:util';
import { newCoordinatorId } from '../coord/coordinator.js';
import { WriteBarrier } from '../gc/barrier.js';
import { withStorage } from '../gc/offline.js';
import { parseCommandArgs } from './args.js';
import { BLOB_CONCURRENCY, migrate } from '../migrate/migrate.js';
import { formatSummary, isProblem, itemLine, ProgressReporter } from '../migrate/report.js';
import { CommandError, type Command } from './command.js';

const ARGS = '[--dry-run] [--quiet] [--concurrency N] <from.yml> <to.yml>';
const USAGE = `registry migrate ${ARGS}`;

export const migrateCommand: Command = {
  usage: ARGS,
  summary: 'copy every repository (blobs, manifests, tags, links) from the storage of from.yml to that of to.yml; resumable, each blob verified; see docs/migrate.md',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        'dry-run': { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        concurrency: { type: 'string', default: String(BLOB_CONCURRENCY) },
      },
      USAGE,
    );
    if (positionals.length !== 2) throw new CommandError(`two config files expected (from, to), got ${positionals.length}\nusage: ${USAGE}`, 2);
    const [from, to] = positionals as [string, string];
    const concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new CommandError(`--concurrency takes a whole number from 1 to 64, got "${values.concurrency}"\nusage: ${USAGE}`, 2);
    }
    const dryRun = values['dry-run'];
    const quiet = values.quiet;
    const stderr = (line: string) => process.stderr.write(line);
    const stdout = (line: string) => process.stdout.write(line);
    return withStorage(from, USAGE, (source, fromConfig) =>
      withStorage(to, USAGE, async (dest, toConfig) => {
        if (isDeepStrictEqual(fromConfig.storage.driver, toConfig.storage.driver)) {
          throw new CommandError(`${from} and ${to} configure the same storage: nothing to migrate`, 2);
        }
        if (!quiet && !dryRun && !fromConfig.storage.maintenance.readonly.enabled) {
          stderr(
            `note: storage.maintenance.readonly is not enabled in ${from}: pushes made while this runs may be missed; ` +
              'run migrate again with the registry read-only before switching (it copies only what is new)\n',
          );
        }
        const progress = new ProgressReporter(quiet ? () => undefined : stderr, dryRun);
        const summary = await migrate(source, dest, { dryRun, concurrency, barrier: new WriteBarrier(dest, newCoordinatorId()) }, (event) => {
          progress.event(event);
          const line = itemLine(event, dryRun);
          if (line === undefined) return;
          if (!quiet || isProblem(event)) stdout(`${line}\n`);
        }).catch((err: unknown) => {
          // Blobs are staged and links written in dependency order, so whatever landed is consistent and a rerun resumes.
          throw new CommandError(`migration stopped: ${(err as Error).message}\nwhat was copied is consistent: fix the cause and run the same command again to resume`);
        }).finally(() => progress.flush());
        stdout(formatSummary(summary));
        return summary.blobsFailed.size > 0 || summary.notCopied.length > 0 ? 1 : 0;
      }),
    );
  },
};
