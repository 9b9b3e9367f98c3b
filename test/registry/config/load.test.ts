import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile } from '../../../registry/src/config/load.js';

describe('config: loadConfigFile', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lain-config-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and applies the environment given', async () => {
    const path = join(dir, 'config.yml');
    await writeFile(path, 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /srv\n');
    const { config } = await loadConfigFile(path, { REGISTRY_HTTP_ADDR: '127.0.0.1:0' });
    expect(config.http.addr).to.equal('127.0.0.1:0');
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/srv', maxthreads: 100 } });
  });

  it('names the file in every line of a validation error', async () => {
    const path = join(dir, 'bad.yml');
    await writeFile(path, 'version: 0.1\nstorage:\n  s3: {}\n');
    const error = await loadConfigFile(path, {}).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.equal(`${path}: storage.s3.region: required [line 3]\n${path}: storage.s3.bucket: required [line 3]`);
  });

  it('turns an unreadable file into a ConfigError naming it', async () => {
    const path = join(dir, 'missing.yml');
    const error = await loadConfigFile(path, {}).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).source).to.equal(path);
    expect((error as ConfigError).message).to.match(new RegExp(`^${path}: cannot read the configuration file: ENOENT`));
  });
});
