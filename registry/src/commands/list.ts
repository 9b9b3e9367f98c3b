// registry list [--json] [<repo>] <config.yml>: tags, digests, media types, platforms and sizes, read offline from
// the storage the config names, so an SA can pick what to DELETE before running garbage-collect. Repositories the
// mirror filled are marked "(mirror)" (JSON: "mirrored": true).
import { listRegistry, UnknownRepositoryError, type TagListing } from '../gc/list.js';
import { withStorage } from '../gc/offline.js';
import { parseCommandArgs } from './args.js';
import { formatTable } from '../gc/table.js';
import { formatBytes } from '../gc/units.js';
import { MEDIA_TYPES } from '../storage/manifest.js';
import { CommandError, type Command } from './command.js';

const ARGS = '[--json] [<repository>] <config.yml>';
const USAGE = `registry list ${ARGS}`;

const SHORT_TYPES: Record<string, string> = {
  [MEDIA_TYPES.ociManifest]: 'oci-image',
  [MEDIA_TYPES.ociIndex]: 'oci-index',
  [MEDIA_TYPES.dockerManifest]: 'docker-image',
  [MEDIA_TYPES.dockerList]: 'docker-list',
  [MEDIA_TYPES.schema1]: 'docker-schema1',
  [MEDIA_TYPES.schema1Signed]: 'docker-schema1',
};

function row(repository: string, t: TagListing): string[] {
  if (t.problem !== undefined) return [repository, t.tag, t.digest, '-', '-', `(${t.problem})`];
  const type = t.mediaType === undefined ? '-' : (SHORT_TYPES[t.mediaType] ?? t.mediaType);
  return [repository, t.tag, t.digest, type, t.size === undefined ? '-' : formatBytes(t.size), (t.platforms ?? []).join(',')];
}

export const list: Command = {
  usage: ARGS,
  summary: "list repositories, their tags and each tag's digest, media type, platforms and size, from storage (offline)",
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, USAGE);
    if (positionals.length > 2) throw new CommandError(`at most a repository and a config file expected\nusage: ${USAGE}`, 2);
    const configPath = positionals[positionals.length - 1];
    const only = positionals.length === 2 ? positionals[0] : undefined;
    return withStorage(configPath, USAGE, async (driver) => {
      let listings;
      try {
        listings = await listRegistry(driver, only);
      } catch (err) {
        if (err instanceof UnknownRepositoryError) throw new CommandError(err.message);
        throw err;
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(listings, null, 2)}\n`);
        return 0;
      }
      const rows = listings.flatMap((l) => {
        const repository = l.mirrored ? `${l.repository} (mirror)` : l.repository;
        return l.tags.length > 0 ? l.tags.map((t) => row(repository, t)) : [[repository, '(no tags)', '', '', '', '']];
      });
      process.stdout.write(formatTable(['REPOSITORY', 'TAG', 'DIGEST', 'TYPE', 'SIZE', 'PLATFORMS'], rows));
      return 0;
    });
  },
};
