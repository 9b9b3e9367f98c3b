// The whole API test suite, unchanged, on local disk (where blobs are served by the filesystem driver's copyTo) and
// on the s3 and oss drivers against a real S3 server (issue 7); it runs in process on inmemory storage by default.
// test/helpers/registry.ts gives each registry of those tests a temp dir or a fresh s3rver when TEST_STORAGE names the backend.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const API_TESTS = resolve('dist/test/registry/api');
const MOCHA = resolve('node_modules/mocha/bin/mocha.js');

function runApiSuite(backend: 'filesystem' | 's3' | 'oss', files: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [MOCHA, '--reporter', 'dot', '--timeout', '60000', ...files],
      { env: { ...process.env, TEST_STORAGE: backend }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe('the API suite on every stored backend', () => {
  let files: string[];
  before(async () => {
    files = (await readdir(API_TESTS)).filter((f) => f.endsWith('.test.js')).map((f) => join(API_TESTS, f));
  });

  for (const backend of ['filesystem', 's3', 'oss'] as const) {
    it(`passes unchanged on the ${backend} driver`, async () => {
      const { code, output } = await runApiSuite(backend, files);
      expect(output, output).to.match(/\d+ passing/);
      expect(output, output).to.not.match(/\d+ failing/);
      expect(code, output).to.equal(0);
    });
  }
});
