// registry prune --keep N [--repo GLOB]... [--dry-run] [--no-gc] <config.yml>: LAIN's weekly retention (it kept 50).
// What is (or would be) deleted goes to stdout, then the summary; then the collector runs, since pruning only
// removes manifests and tags and the blobs they alone used are freed by garbage-collect.
import { newCoordinatorId } from '../coord/coordinator.js';
import { formatDigest } from '../storage/digest.js';
import { withStorage } from '../gc/offline.js';
import { withCollection } from '../gc/online.js';
import { GRACE_MS } from '../gc/protocol.js';
import { parseCommandArgs } from './args.js';
import { pruneRegistry, type PruneEvent, type PruneSummary } from '../retention/prune.js';
import { CommandError, type Command } from './command.js';
import { garbageCollect } from './garbage-collect.js';

const ARGS = '--keep N [--repo GLOB]... [--dry-run] [--no-gc] <config.yml>';
const USAGE = `registry prune ${ARGS}`;

/** A line per event; none for a repository with nothing to drop (a registry has many). */
function describe(event: PruneEvent, dryRun: boolean): string | undefined {
  switch (event.kind) {
    case 'plan': {
      const { repository, kept, dropped } = event.plan;
      if (dropped.length === 0) return undefined;
      const names = kept.map((t) => t.tag).join(', ');
      return `${repository}: keeping ${kept.length} of ${kept.length + dropped.length} tags${names === '' ? '' : `: ${names}`}`;
    }
    case 'manifest':
      return `${dryRun ? 'would delete' : 'deleting'} ${event.repository}@${formatDigest(event.deletion.digest)} (${event.deletion.why})`;
    case 'untag':
      return `${dryRun ? 'would untag' : 'untagging'} ${event.repository}:${event.tag.tag} (its manifest ${formatDigest(event.tag.digest)} stays: something kept needs it)`;
    case 'skip':
      return `skipping ${event.repository}: ${event.what}`;
  }
}

function count(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}

function summaryLine(s: PruneSummary): string {
  const counts = `${count(s.repositories, 'repository', 'repositories')}, ${count(s.tagsKept, 'tag')} kept`;
  const tags = count(s.tagsRemoved, 'tag');
  const manifests = count(s.manifestsDeleted, 'manifest');
  if (s.dryRun) return `prune: dry run, nothing deleted: ${counts}, would remove ${tags} and delete ${manifests}`;
  return `prune: ${counts}, removed ${tags}, deleted ${manifests}${s.skipped > 0 ? `, skipped ${s.skipped} changed by pushes meanwhile` : ''}`;
}

export const prune: Command = {
  usage: ARGS,
  summary: 'keep the N most recently pushed tags of each repository, delete the manifests only older tags need, then garbage-collect; see docs/maintenance-schedule.md',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        keep: { type: 'string' },
        repo: { type: 'string', multiple: true, default: [] },
        'dry-run': { type: 'boolean', default: false },
        'no-gc': { type: 'boolean', default: false },
      },
      USAGE,
    );
    const keep = Number(values.keep);
    if (values.keep === undefined || !/^\d+$/.test(values.keep) || keep < 1) {
      throw new CommandError(`--keep must be a whole number of tags to keep, 1 or more (LAIN kept 50)\nusage: ${USAGE}`, 2);
    }
    if (positionals.length !== 1) throw new CommandError(`one config file expected${positionals.length > 1 ? `, got ${positionals.join(' ')}` : ''}\nusage: ${USAGE}`, 2);
    const configPath = positionals[0]!;
    const dryRun = values['dry-run'];
    const write = (line: string) => process.stdout.write(`${line}\n`);
    const options = { keep, repos: values.repo, dryRun };
    const onEvent = (event: PruneEvent) => {
      const line = describe(event, dryRun);
      if (line !== undefined) write(line);
    };
    // Deletions go through a registered collection, as the collector's do: safe while the registry takes pushes.
    const summary = await withStorage(configPath, USAGE, (driver, _config, logger) =>
      dryRun
        ? pruneRegistry(driver, options, onEvent)
        : withCollection(
            driver,
            newCoordinatorId(),
            logger,
            undefined,
            (collection) => pruneRegistry(driver, options, onEvent, collection),
            (collection) => process.stderr.write(`collection ${collection.id} registered; waiting ${GRACE_MS / 1000}s for writes already under way\n`),
          ),
    );
    write(summaryLine(summary));
    if (dryRun || values['no-gc']) {
      write(`next: registry garbage-collect ${configPath} (frees the blobs only the ${dryRun ? 'pruned' : 'deleted'} manifests used)`);
      return 0;
    }
    write(`prune: running registry garbage-collect ${configPath}`);
    return garbageCollect.run([configPath]);
  },
};
