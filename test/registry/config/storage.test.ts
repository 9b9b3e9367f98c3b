// Storage values that lose or misplace every image are refused with the reason: a filesystem root among the system's
// own files or in a kernel pseudo-filesystem, a relative root that climbs out of the working directory, and the
// inmemory driver unless its data loss is acknowledged.
import { expect } from 'chai';
import { toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import { issuesOf, load } from './parse.js';

const fs = (root: string) => `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(root)}\n`;

describe('config: storage values that would lose or misplace images', () => {
  for (const [root, why] of [
    ['/', 'is the root of the filesystem'],
    ['//', 'is the root of the filesystem'],
    ['/proc', 'is /proc, a kernel pseudo-filesystem: nothing written there is stored'],
    ['/proc/self/cwd', 'is inside /proc, a kernel pseudo-filesystem: nothing written there is stored'],
    ['/sys/', 'is /sys, a kernel pseudo-filesystem'],
    ['/dev/shm/registry', 'is inside /dev, a kernel pseudo-filesystem'],
    ['/etc', "is /etc, the system's configuration"],
    ['/boot/registry', 'is inside /boot, the kernel and boot loader'],
    ['/var/lib/registry/../../../etc/docker', "is inside /etc, the system's configuration"],
    ['/usr', 'is /usr, a system directory'],
    ['/var', 'is /var, a system directory'],
    ['/root', 'is /root, a system directory'],
  ]) {
    it(`refuses rootdirectory ${root}, saying why`, () => {
      const issues = issuesOf(fs(root));
      expect(issues).to.have.length(1);
      expect(issues[0]).to.match(new RegExp(`^storage\\.filesystem\\.rootdirectory: "${root.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" `));
      expect(issues[0]).to.contain(why);
      expect(issues[0]).to.contain('give the registry a directory of its own (e.g. /var/lib/registry) [line 4]');
    });
  }

  for (const root of ['../../etc', '..', 'data/../../srv', './../registry']) {
    it(`refuses the relative rootdirectory ${root}: it climbs out of the working directory`, () => {
      expect(issuesOf(fs(root))).to.deep.equal([
        `storage.filesystem.rootdirectory: ${JSON.stringify(root)} climbs out of the working directory, so images land wherever the registry is started from (in the container, outside its /var/lib/registry volume); use an absolute path [line 4]`,
      ]);
    });
  }

  it('refuses a rootdirectory with a NUL, which no file system path can hold', () => {
    expect(issuesOf(fs('/srv/reg\0istry'))[0]).to.match(/^storage\.filesystem\.rootdirectory: contains a NUL \(U\+0000\), which no file path can hold \[line 4\]$/);
  });

  for (const root of ['/var/lib/registry', '/srv/registry', '/data', '/tmp/registry-test', '/mnt/images/', './data', 'data/registry', '/home/registry/data']) {
    it(`accepts rootdirectory ${root}`, () => {
      const { config, warnings } = load(fs(root));
      expect(warnings).to.deep.equal([]);
      expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: root, maxthreads: 100 } });
    });
  }

  it('names the environment variable that sets a dangerous rootdirectory', () => {
    expect(issuesOf(fs('/var/lib/registry'), { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/proc' })[0]).to.match(
      /^storage\.filesystem\.rootdirectory: "\/proc" is \/proc, .* \[env REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY\]$/,
    );
  });

  describe('inmemory', () => {
    const refusal =
      'storage.inmemory.acceptdataloss: required: the inmemory driver keeps every image in memory and loses them all when the registry stops; ' +
      'set it to true to accept that (tests, development), or use filesystem, s3 or oss';

    for (const [written, line] of [
      ['storage: inmemory', 2],
      ['storage: {inmemory: null}', 2],
      ['storage:\n  inmemory: {}', 3],
      ['storage:\n  inmemory:\n    acceptdataloss: false', 4],
    ] as const) {
      it(`refuses ${JSON.stringify(written)}: every image would be lost at the next restart`, () => {
        expect(issuesOf(`version: 0.1\n${written}\n`)).to.deep.equal([`${refusal} [line ${line}]`]);
      });
    }

    it('refuses REGISTRY_STORAGE=inmemory alone, naming the variable', () => {
      expect(issuesOf(fs('/var/lib/registry'), { REGISTRY_STORAGE: 'inmemory' })).to.deep.equal([`${refusal} [env REGISTRY_STORAGE]`]);
    });

    it('accepts it with acceptdataloss: true, in the file or the environment (as a string too, like every driver parameter)', () => {
      expect(load('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n').config.storage.driver).to.deep.equal({ type: 'inmemory' });
      expect(load('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: "true"}\n').config.storage.driver).to.deep.equal({ type: 'inmemory' });
      const env = { REGISTRY_STORAGE: 'inmemory', REGISTRY_STORAGE_INMEMORY_ACCEPTDATALOSS: 'true' };
      const { config, warnings } = load(fs('/var/lib/registry'), env);
      expect(warnings).to.deep.equal([]);
      expect(config.storage.driver).to.deep.equal({ type: 'inmemory' });
    });

    it('writes the acknowledgement back, so a printed config reads back the same', () => {
      const { config } = load('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n');
      expect(toYaml(toDistributionShape(config))).to.contain('inmemory:\n    acceptdataloss: true\n');
      expect(load(toYaml(toDistributionShape(config))).config).to.deep.equal(config);
    });
  });
});
