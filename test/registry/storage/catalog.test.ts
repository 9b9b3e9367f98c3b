// The catalog walk on its own, over the inmemory driver: path order across listing pages, the repository check that
// reads ahead, and what does not count as a repository.
import { expect } from 'chai';
import { parseDigest } from '../../../registry/src/storage/digest.js';
import { InMemoryDriver } from '../../../registry/src/storage/driver/inmemory.js';
import { Catalog } from '../../../registry/src/storage/catalog.js';
import { paths } from '../../../registry/src/storage/paths.js';

const DIGEST = parseDigest(`sha256:${'a'.repeat(64)}`);

/** A repository as the registry leaves it once a blob is linked in it. */
async function repository(driver: InMemoryDriver, name: string): Promise<void> {
  await driver.putContent(paths.layerLink(name, DIGEST), Buffer.from(`sha256:${'a'.repeat(64)}`));
}

describe('storage: catalog', () => {
  it('walks more than one listing page of top-level repositories in order, from any last, at most limit', async () => {
    const driver = new InMemoryDriver();
    const names = Array.from({ length: 1100 }, (_, i) => `r${String(i).padStart(4, '0')}`);
    for (const name of names) await repository(driver, name);
    const catalog = new Catalog(driver);
    expect(await catalog.all()).to.deep.equal(names);
    expect(await catalog.list('r0998', 4)).to.deep.equal(['r0999', 'r1000', 'r1001', 'r1002']);
    expect(await catalog.list('r1099', 10)).to.deep.equal([]);
  });

  it('lists a repository before its nested ones even when its first page of children is 1000 digit names before "_layers"', async () => {
    const driver = new InMemoryDriver();
    const nested = Array.from({ length: 1001 }, (_, i) => `team/${String(i).padStart(4, '0')}`);
    for (const name of nested) await repository(driver, name);
    await repository(driver, 'team');
    await repository(driver, 'zeta');
    const catalog = new Catalog(driver);
    expect(await catalog.all()).to.deep.equal(['team', ...nested, 'zeta']);
    expect(await catalog.list('team/0999', 3)).to.deep.equal(['team/1000', 'zeta']);
  });

  it('leaves out directories holding only an upload in progress, and names that are not repositories', async () => {
    const driver = new InMemoryDriver();
    await repository(driver, 'app');
    await driver.putContent(paths.uploadStartedAt('pending', '00000000-0000-4000-8000-000000000000'), Buffer.from('now'));
    await repository(driver, 'group/inner');
    const catalog = new Catalog(driver);
    expect(await catalog.all()).to.deep.equal(['app', 'group/inner']);
  });
});
