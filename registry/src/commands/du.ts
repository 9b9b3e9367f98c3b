// registry du [--json] <config.yml>: bytes per repository (its own and shared), and what garbage-collect would free.
import { diskUsage } from '../gc/du.js';
import { withStorage } from '../gc/offline.js';
import { parseCommandArgs } from './args.js';
import { UnreadableManifestError } from '../gc/references.js';
import { formatTable } from '../gc/table.js';
import { formatBytes } from '../gc/units.js';
import { CommandError, type Command } from './command.js';

const ARGS = '[--json] <config.yml>';
const USAGE = `registry du ${ARGS}`;

export const du: Command = {
  usage: ARGS,
  summary: 'bytes per repository, split into its own and shared with others, and what garbage-collect would free (offline)',
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, USAGE);
    if (positionals.length > 1) throw new CommandError(`one config file expected\nusage: ${USAGE}`, 2);
    return withStorage(positionals[0], USAGE, async (driver) => {
      let usage;
      try {
        usage = await diskUsage(driver);
      } catch (err) {
        if (err instanceof UnreadableManifestError) throw new CommandError(err.message);
        throw err;
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(usage, null, 2)}\n`);
        return 0;
      }
      const rows = usage.repositories.map((r) => [
        r.repository,
        formatBytes(r.exclusiveBytes),
        formatBytes(r.sharedBytes),
        String(r.tags),
        String(r.manifests),
      ]);
      process.stdout.write(formatTable(['REPOSITORY', 'EXCLUSIVE', 'SHARED', 'TAGS', 'MANIFESTS'], rows));
      const { stored, unreferenced, untagged } = usage;
      process.stdout.write(
        `\nstored: ${stored.blobs} blobs, ${formatBytes(stored.bytes)}\n` +
          `garbage-collect --min-age 0s would free: ${unreferenced.blobs} unreferenced blobs, ${formatBytes(unreferenced.bytes)}\n` +
          `--delete-untagged would free on top: ${untagged.manifests} untagged manifests, ${untagged.blobs} blobs, ${formatBytes(untagged.bytes)}\n`,
      );
      return 0;
    });
  },
};
