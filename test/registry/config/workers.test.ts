// http.workers: how many processes `registry serve` runs, from the file or REGISTRY_HTTP_WORKERS.
import { expect } from 'chai';
import { issuesOf, load } from './parse.js';

const ON_DISK = 'version: 0.1\nstorage: {filesystem: {rootdirectory: /srv/registry}}\n';

describe('config: http.workers', () => {
  it('is unset unless written, which serve reads as one worker per core', () => {
    expect(load(ON_DISK).config.http.workers).to.equal(undefined);
  });

  it('takes a count from the file, and REGISTRY_HTTP_WORKERS over it', () => {
    expect(load(`${ON_DISK}http: {workers: 4}\n`).config.http.workers).to.equal(4);
    expect(load(`${ON_DISK}http: {workers: 4}\n`, { REGISTRY_HTTP_WORKERS: '1' }).config.http.workers).to.equal(1);
  });

  it('refuses a count below 1, above 1024 or not a whole number, naming where it was written', () => {
    expect(issuesOf(`${ON_DISK}http: {workers: 0}\n`)).to.deep.equal(['http.workers: 0 is too small (minimum 1) [line 3]']);
    expect(issuesOf(ON_DISK, { REGISTRY_HTTP_WORKERS: '100000' })).to.deep.equal([
      'http.workers: 100000 is too large (maximum 1024) [env REGISTRY_HTTP_WORKERS]',
    ]);
    expect(issuesOf(ON_DISK, { REGISTRY_HTTP_WORKERS: 'all' })).to.deep.equal(['http.workers: expected an integer, got "all" [env REGISTRY_HTTP_WORKERS]']);
  });

  it('refuses several workers over the inmemory driver, whose images one process alone would see', () => {
    const inmemory = 'version: 0.1\nstorage: {inmemory: {acceptdataloss: true}}\n';
    expect(issuesOf(`${inmemory}http: {workers: 2}\n`)).to.deep.equal([
      "http.workers: 2 workers cannot share the inmemory driver's images, which live in one process's memory: use 1, or filesystem, s3 or oss [line 3]",
    ]);
    expect(load(`${inmemory}http: {workers: 1}\n`).config.http.workers).to.equal(1);
  });
});
