// garbage-collect deletes uploads abandoned longer than --upload-age, reports them, and --dry-run previews exactly
// what the run then deletes: the space a refused or abandoned push left in _uploads comes back.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { paths } from '../../../registry/src/storage/paths.js';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { Client } from '../../helpers/oci.js';
import { makeTempDir, writeDistributionConfig } from '../../helpers/processes.js';
import { runRegistry } from '../../helpers/registry-cli.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { snapshotTree } from './fixtures.js';

const DAY = 24 * 3_600_000;

interface Upload {
  name: string;
  uuid: string;
}

describe('gc: garbage-collect deletes abandoned uploads', function () {
  this.timeout(60_000);
  let tmp: string;
  let root: string;
  let config: string;
  let old: Upload[];
  let young: Upload;
  before(async () => {
    tmp = await makeTempDir('gc-uploads');
    root = join(tmp, 'storage');
    const registry = await startTestRegistry({ rootDir: root });
    try {
      const client = new Client(registry.url);
      const start = async (name: string, startedAt?: Date): Promise<Upload> => {
        const res = await client.request('POST', `/v2/${name}/blobs/uploads/`);
        const uuid = res.headers.get('docker-upload-uuid') as string;
        const path = new URL(res.headers.get('location') as string).pathname;
        await client.request('PATCH', path, { headers: { 'content-type': 'application/octet-stream' }, body: pseudoRandomBytes(uuid, 1024 * 1024) });
        if (startedAt) await registry.driver.putContent(paths.uploadStartedAt(name, uuid), Buffer.from(startedAt.toISOString()));
        return { name, uuid };
      };
      old = [await start('team/app', new Date(Date.now() - 2 * DAY)), await start('other', new Date(Date.now() - 30 * DAY))];
      young = await start('team/app');
    } finally {
      await registry.stop();
    }
    config = await writeDistributionConfig(tmp, { rootDir: root });
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  const uploadsOf = (name: string) => readdir(join(root, 'docker/registry/v2/repositories', name, '_uploads'));

  it('--dry-run names each upload older than --upload-age and deletes nothing; the run then deletes exactly those', async () => {
    const before = await snapshotTree(root);
    const preview = await runRegistry(['garbage-collect', '--dry-run', config]);
    expect(preview.code, preview.stderr).to.equal(0);
    for (const { name, uuid } of old) expect(preview.stdout).to.match(new RegExp(`^would delete upload ${name} ${uuid} \\(started \\S+\\)$`, 'm'));
    expect(preview.stdout).to.not.contain(young.uuid);
    expect(preview.stdout).to.contain('garbage-collect: would delete 2 uploads started more than --upload-age 24h ago (1 younger upload kept)');
    expect(await snapshotTree(root)).to.deep.equal(before);

    const run = await runRegistry(['garbage-collect', config]);
    expect(run.code, run.stderr).to.equal(0);
    for (const { name, uuid } of old) expect(run.stdout).to.match(new RegExp(`^deleting upload ${name} ${uuid} `, 'm'));
    expect(run.stdout).to.contain('garbage-collect: deleted 2 uploads started more than --upload-age 24h ago (1 younger upload kept)');
    expect(await uploadsOf('team/app')).to.deep.equal([young.uuid]);
    expect(await uploadsOf('other')).to.deep.equal([]);
  });

  it('--upload-age takes a duration; anything else is a usage error', async () => {
    const run = await runRegistry(['garbage-collect', '--upload-age', 'a while', config]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain('--upload-age a while: expected a duration');
  });
});
