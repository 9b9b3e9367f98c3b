// storage.maintenance.gc and storage.maintenance.prune: the background collector and scheduled retention of serve.
import { expect } from 'chai';
import { toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import { issuesOf, load, MINIMAL } from './parse.js';

const withMaintenance = (maintenance: string) => `version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n  maintenance: ${maintenance}\n`;

describe('config: storage.maintenance.gc and storage.maintenance.prune', () => {
  it('are off by default, as distribution has neither', () => {
    const { maintenance } = load(MINIMAL).config.storage;
    expect(maintenance.gc.enabled).to.equal(false);
    expect(maintenance.prune.enabled).to.equal(false);
  });

  it('read every key: interval, minage (0s allowed) and deleteuntagged; interval, keep and repositories', () => {
    const { config, warnings } = load(
      withMaintenance('{gc: {enabled: true, interval: 6h, minage: 0s, deleteuntagged: true}, prune: {enabled: true, interval: 168h, keep: 50, repositories: ["team/*", "base"]}}'),
    );
    expect(warnings).to.deep.equal([]);
    expect(config.storage.maintenance.gc).to.deep.equal({ enabled: true, interval: 6 * 3_600_000, minage: 0, deleteuntagged: true });
    expect(config.storage.maintenance.prune).to.deep.equal({ enabled: true, interval: 168 * 3_600_000, keep: 50, repositories: ['team/*', 'base'] });
  });

  it('refuses an interval of 0, a negative minage and keep below 1, naming each key', () => {
    const issues = issuesOf(withMaintenance('{gc: {enabled: true, interval: 0s, minage: -1h}, prune: {keep: 0}}')).join('\n');
    expect(issues).to.contain('storage.maintenance.gc.interval').and.contain('greater than 0');
    expect(issues).to.contain('storage.maintenance.gc.minage').and.contain('zero or more');
    expect(issues).to.contain('storage.maintenance.prune.keep').and.contain('minimum 1');
  });

  it('reports an unknown key under them', () => {
    const { warnings } = load(withMaintenance('{gc: {enabled: true, mingae: 1h}}'));
    expect(warnings.join('\n')).to.contain('storage.maintenance.gc.mingae');
  });

  it('are written back in the printed config, which reads back the same', () => {
    const { config } = load(withMaintenance('{gc: {enabled: true, interval: 90m, minage: 2h}, prune: {enabled: true, keep: 7}}'));
    expect(load(toYaml(toDistributionShape(config))).config.storage.maintenance).to.deep.equal(config.storage.maintenance);
  });
});
