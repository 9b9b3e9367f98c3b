import { rm } from 'node:fs/promises';
import { makeTempDir, startS3rver, stopAll } from '../../helpers/processes.js';
import { runCoordinatorSuite } from './coordinator-suite.js';
import { fleetOf } from './fleet.js';

describe('storage coordination backend', function () {
  after(stopAll);

  describe('on local disk', function () {
    let dir: string;
    before(async function () {
      dir = await makeTempDir('coord-fs');
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });
    runCoordinatorSuite('storage (filesystem)', async () => fleetOf({ storage: { filesystem: { rootdirectory: dir } } }), { polled: true, ttlMs: 600 });
  });

  describe('on S3 (s3rver)', function () {
    this.timeout(60_000);
    let s3: Awaited<ReturnType<typeof startS3rver>>;
    before(async function () {
      s3 = await startS3rver();
    });
    after(async function () {
      await s3.stop();
    });
    runCoordinatorSuite(
      'storage (s3)',
      async () =>
        fleetOf({
          storage: {
            s3: { bucket: s3.bucket, region: 'us-east-1', regionendpoint: s3.endpoint, forcepathstyle: true, accesskey: s3.accessKey, secretkey: s3.secretKey, secure: false, rootdirectory: '/coord' },
          },
        }),
      { polled: true, ttlMs: 5000 },
    );
  });
});
