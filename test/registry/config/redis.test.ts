import { expect } from 'chai';
import { maskSecrets, toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import { issuesOf, load, MINIMAL } from './parse.js';

describe('config: redis', () => {
  it("reads distribution 2.8's redis keys, with durations, and its defaults where a key is unset", () => {
    const { config, warnings } = load(
      `${MINIMAL.trim()}\nredis:\n  addr: 10.0.0.5:6380\n  password: s3cret\n  db: 2\n  dialtimeout: 250ms\n  readtimeout: 100ms\n  tls:\n    enabled: true\n`,
    );
    expect(config.redis).to.deep.equal({ addr: '10.0.0.5:6380', password: 's3cret', db: 2, dialtimeout: 250, readtimeout: 100, writetimeout: 1000, tls: { enabled: true } });
    expect(warnings).to.deep.equal([]);
  });

  it('writes the section back in the shape distribution reads, and masks the password when printing', () => {
    const text = `${MINIMAL.trim()}\nredis:\n  addr: 10.0.0.5:6380\n  password: s3cret\n  dialtimeout: 250ms\n`;
    const { config } = load(text);
    const again = load(toYaml(toDistributionShape(config))).config;
    expect(again.redis).to.deep.equal(config.redis);
    expect(JSON.stringify(maskSecrets(config))).not.to.contain('s3cret');
  });

  it('takes REGISTRY_REDIS_* overrides as distribution does', () => {
    const { config } = load(MINIMAL, { REGISTRY_REDIS_ADDR: 'cache:6379', REGISTRY_REDIS_DB: '3', REGISTRY_REDIS_PASSWORD: 'pw' });
    expect(config.redis).to.include({ addr: 'cache:6379', db: 3, password: 'pw' });
  });

  it('accepts the pool keys with a warning that one pipelined connection is used', () => {
    const { warnings } = load(`${MINIMAL.trim()}\nredis:\n  addr: 127.0.0.1:6379\n  pool:\n    maxidle: 16\n    maxactive: 64\n`);
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.match(/^redis\.pool\.maxidle: not supported by this registry; one pipelined connection per process is used/);
  });

  it('refuses a redis section without a usable addr, saying what to write', () => {
    expect(issuesOf(`${MINIMAL.trim()}\nredis:\n  db: 1\n`).join('\n')).to.match(/redis\.addr: required: the Redis server as host:port/);
    expect(issuesOf(`${MINIMAL.trim()}\nredis:\n  addr: localhost\n`).join('\n')).to.match(/redis\.addr: "localhost" is not host:port/);
  });

  it('uses redis for blob descriptors when asked and redis is configured, and refuses the ask without a redis section', () => {
    const withRedis = load('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n  cache:\n    blobdescriptor: redis\nredis:\n  addr: 127.0.0.1:6379\n');
    expect(withRedis.config.storage.cache).to.deep.equal({ blobdescriptor: 'redis' });
    expect(issuesOf('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n  cache:\n    blobdescriptor: redis\n').join('\n')).to.match(
      /storage\.cache\.blobdescriptor is redis, but there is no redis section: add redis\.addr/,
    );
  });
});
