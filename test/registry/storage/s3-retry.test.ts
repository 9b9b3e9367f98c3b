// The S3 driver sends again a request that a struggling server (5xx) or network (a reset connection) failed, when sending
// it again cannot do it twice, and gives up with the server's error after four tries. Faults are injected by the
// recording proxy in front of a real s3rver.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mayResend } from '../../../registry/src/storage/driver/s3-retry.js';
import { errorCode } from '../../../registry/src/storage/driver/s3-store.js';
import { S3Driver, s3Settings } from '../../../registry/src/storage/driver/s3.js';
import { failureOf } from '../../helpers/failure.js';
import { captureLogs } from '../../helpers/registry.js';
import { s3Client, startS3rver, type S3Server } from '../../helpers/processes.js';
import { startRecordingProxy, type Fault, type RecordedRequest, type RecordingProxy } from './s3-recording-proxy.js';

const MiB = 1 << 20;

describe('s3 storage driver: requests sent again', function () {
  let s3: S3Server;
  let proxy: RecordingProxy;
  let driver: S3Driver;
  const { logger, logs } = captureLogs({ level: 'warn', fields: {} });

  before(async function () {
    s3 = await startS3rver();
    proxy = await startRecordingProxy(s3.endpoint, s3Client(s3));
    const settings = s3Settings({
      accesskey: s3.accessKey,
      secretkey: s3.secretKey,
      region: s3.region,
      regionendpoint: proxy.endpoint,
      bucket: s3.bucket,
      chunksize: 5 * MiB,
      rootdirectory: '/retry',
    });
    driver = new S3Driver(settings, logger);
  });

  after(async function () {
    await driver?.close();
    await proxy?.stop();
    await s3?.stop();
  });

  beforeEach(function () {
    proxy.requests.length = 0;
    proxy.fault = undefined;
    logs.length = 0;
  });

  /** Fails the first `times` requests that `matches` picks with `fault`, then forwards the rest. */
  function failFirst(times: number, fault: Fault, matches: (r: RecordedRequest) => boolean): void {
    let left = times;
    proxy.fault = (r) => (matches(r) && left-- > 0 ? fault : undefined);
  }

  const sent = (method: string, path: string) => proxy.requests.filter((r) => r.method === method && r.path === `/${s3.bucket}/retry${path}`);

  for (const fault of [500, 503, 'reset'] as const) {
    it(`PUT, GET, HEAD and list that met ${fault === 'reset' ? 'a reset connection' : `a ${fault}`} are sent again and succeed`, async function () {
      const content = randomBytes(4096);
      failFirst(1, fault, (r) => r.method === 'PUT');
      await driver.putContent(`/f${fault}`, content);
      expect(sent('PUT', `/f${fault}`)).to.have.length(2);

      failFirst(1, fault, (r) => r.method === 'GET');
      expect((await driver.getContent(`/f${fault}`)).equals(content)).to.equal(true);
      failFirst(1, fault, (r) => r.method === 'HEAD');
      expect((await driver.stat(`/f${fault}`)).size).to.equal(content.length);
      failFirst(1, fault, (r) => r.method === 'GET' && r.query.has('list-type'));
      expect(await driver.list('/')).to.include(`/f${fault}`);

      const retries = logs.filter((line) => line.msg === 'storage request failed; sending it again');
      expect(retries.map((line) => line.method)).to.deep.equal(['PUT', 'GET', 'HEAD', 'GET']);
      expect(retries[0]).to.include({ storage: 's3', attempt: 1, of: 4, cause: fault === 'reset' ? 'ECONNRESET' : `HTTP ${fault}` });
      expect(retries[0]?.path).to.equal(`/${s3.bucket}/retry/f${fault}`);
    });
  }

  it('a server that keeps answering 500 gets four tries, and the caller gets its S3 error', async function () {
    await driver.putContent('/always', Buffer.from('x'));
    proxy.fault = (r) => (r.method === 'GET' ? 500 : undefined);
    const err = await failureOf(Error, () => driver.getContent('/always'));
    expect(errorCode(err)).to.equal('InternalError');
    expect(String((err as Error).message)).to.contain('injected 500');
    expect(sent('GET', '/always')).to.have.length(4);
  });

  it('CompleteMultipartUpload is sent again after a 500, and not after a lost connection, which it could have done', async function () {
    const isComplete = (r: RecordedRequest) => r.method === 'POST' && r.query.has('uploadId');
    const content = randomBytes(6 * MiB);

    const retried = await driver.writer('/multi-500', false);
    await retried.write(content);
    failFirst(1, 500, isComplete);
    await retried.commit();
    expect(proxy.requests.filter(isComplete)).to.have.length(2);
    expect((await driver.getContent('/multi-500')).equals(content)).to.equal(true);

    proxy.requests.length = 0;
    const notRetried = await driver.writer('/multi-reset', false);
    await notRetried.write(content);
    failFirst(1, 'reset', isComplete);
    expect(errorCode(await failureOf(Error, () => notRetried.commit()))).to.equal('ECONNRESET');
    expect(proxy.requests.filter(isComplete)).to.have.length(1);
  });

  it('a DELETE and a DeleteObjects that met a reset connection are sent again; nothing is left', async function () {
    for (const name of ['/d/a', '/d/b', '/one']) await driver.putContent(name, Buffer.from(name));
    failFirst(1, 'reset', (r) => r.method === 'POST' && r.query.has('delete'));
    await driver.delete('/d');
    failFirst(1, 'reset', (r) => r.method === 'DELETE');
    await driver.delete('/one');
    expect(await driver.list('/')).to.not.include.members(['/d', '/one']);
    expect(proxy.requests.filter((r) => r.method === 'POST' && r.query.has('delete'))).to.have.length(2);
    expect(sent('DELETE', '/one')).to.have.length(2);
  });

  it('decides from the method which requests may be sent again after the connection was lost', function () {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(['GET', 'HEAD', 'PUT', 'DELETE'].map((method) => mayResend(reset, method, '/b/k'))).to.deep.equal([true, true, true, true]);
    expect(mayResend(reset, 'POST', '/b?delete')).to.equal(true);
    expect(mayResend(reset, 'POST', '/b/k?uploads')).to.equal(true);
    expect(mayResend(reset, 'POST', '/b/k?uploadId=abc')).to.equal(false);
    expect(mayResend(refused, 'POST', '/b/k?uploadId=abc')).to.equal(true);
    expect(mayResend(Object.assign(new Error('denied'), { code: 'AccessDenied' }), 'GET', '/b/k')).to.equal(false);
  });
});
