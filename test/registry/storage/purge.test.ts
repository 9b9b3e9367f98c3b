import { expect } from 'chai';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageConfig, UploadPurgingConfig } from '../../../registry/src/config/types.js';
import { readJobRecord } from '../../../registry/src/coord/exclusive.js';
import { createLogger, type Logger } from '../../../registry/src/log.js';
import { paths } from '../../../registry/src/storage/paths.js';
import { loggedPurge, purgeUploads, startUploadPurger, UPLOAD_PURGE_JOB } from '../../../registry/src/storage/purge.js';
import { Client, sha256 } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';

const DAY = 24 * 3_600_000;

function maintenance(uploadpurging: UploadPurgingConfig, readonly = false): StorageConfig['maintenance'] {
  return {
    readonly: { enabled: readonly },
    uploadpurging,
    gc: { enabled: false, interval: DAY, minage: 0, deleteuntagged: false },
    prune: { enabled: false, interval: DAY, keep: 1, repositories: [] },
  };
}

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', formatter: 'json', fields: {} }, sink), lines };
}

describe('storage: upload purging (storage.maintenance.uploadpurging)', () => {
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    // The registry's own purger would race the purges these tests make.
    registry = await startTestRegistry({ storage: 'filesystem', config: { storage: { maintenance: { uploadpurging: { enabled: false } } } } });
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  interface Upload {
    name: string;
    uuid: string;
    path: string;
  }

  /** Starts an upload with a first chunk; startedAt, when given, is written the way that registry would. */
  async function startUpload(name: string, startedAt?: string): Promise<Upload> {
    const res = await client.request('POST', `/v2/${name}/blobs/uploads/`);
    expect(res.status).to.equal(202);
    const path = new URL(res.headers.get('location') as string, registry.url).pathname;
    const patched = await client.request('PATCH', path, { headers: { 'content-type': 'application/octet-stream' }, body: 'first chunk' });
    expect(patched.status).to.equal(202);
    const uuid = res.headers.get('docker-upload-uuid') as string;
    if (startedAt !== undefined) await registry.driver.putContent(paths.uploadStartedAt(name, uuid), Buffer.from(startedAt));
    return { name, uuid, path };
  }

  const status = async (upload: Upload) => (await client.request('GET', upload.path)).status;

  it('deletes uploads started before the cut-off in every repository, keeps younger ones, and a kept upload still completes', async () => {
    const old = await startUpload('purge/a', new Date(Date.now() - 8 * DAY).toISOString());
    // distribution writes RFC 3339 without fractions; a repository holding nothing but this upload is walked too.
    const oldInNewRepository = await startUpload('first-push', '2020-01-01T00:00:00Z');
    const young = await startUpload('purge/a');
    const { logger } = capturingLogger();

    const result = await purgeUploads(registry.driver, new Date(Date.now() - 7 * DAY), false, loggedPurge(logger, false));
    expect(result).to.deep.equal({ purged: 2, kept: 1, errors: 0 });
    expect(await status(old)).to.equal(404);
    expect(await status(oldInNewRepository)).to.equal(404);
    expect(await status(young)).to.equal(204);
    const done = await client.request('PUT', `${young.path}?digest=${sha256('first chunk')}`);
    expect(done.status).to.equal(201);
  });

  it('with dryrun reports each upload it would delete and deletes none', async () => {
    const old = await startUpload('purge/dry', new Date(Date.now() - 8 * DAY).toISOString());
    const { logger, lines } = capturingLogger();
    const result = await purgeUploads(registry.driver, new Date(Date.now() - 7 * DAY), true, loggedPurge(logger, true));
    expect(result.purged).to.equal(1);
    expect(await status(old)).to.equal(204);
    expect(lines.find((l) => l.uuid === old.uuid)?.msg).to.contain('would delete');
    await client.request('DELETE', old.path);
  });

  it('keeps an upload whose startedat is not a time, and counts it as an error', async () => {
    const odd = await startUpload('purge/odd', 'yesterday-ish');
    const { logger, lines } = capturingLogger();
    const result = await purgeUploads(registry.driver, new Date(), false, loggedPurge(logger, false));
    expect(result).to.deep.include({ errors: 1 });
    expect(await status(odd)).to.equal(204);
    expect(lines.some((l) => l.level === 'warn' && String(l.path).endsWith(`${odd.uuid}/startedat`))).to.equal(true);
    await client.request('DELETE', odd.path);
  });

  it('startUploadPurger, when enabled, purges old uploads on its own as a once-per-fleet job, recorded in storage', async () => {
    const old = await startUpload('purge/timer', new Date(Date.now() - 2 * 3_600_000).toISOString());
    const { logger, lines } = capturingLogger();
    const purger = startUploadPurger(registry.coord, registry.driver, maintenance({ enabled: true, age: 3_600_000, interval: 50, dryrun: false }), logger);
    try {
      while (!lines.some((l) => l.msg === 'upload purge finished')) await sleep(10);
    } finally {
      await purger?.stop();
    }
    expect(lines.find((l) => l.msg === 'upload purging enabled')).to.deep.include({ component: 'uploadpurger', ageMs: 3_600_000, intervalMs: 50 });
    expect(await status(old)).to.equal(404);
    const record = await readJobRecord(registry.driver, UPLOAD_PURGE_JOB);
    expect(record.holder).to.equal(registry.coord.id);
    expect(record.result).to.deep.include({ purged: 1, errors: 0 });
    expect(record.lastSuccess).to.be.a('number');
  });

  it('startUploadPurger does nothing when disabled, nor in read-only mode, and says why', async () => {
    const old = await startUpload('purge/disabled', new Date(0).toISOString());
    const disabled = capturingLogger();
    expect(startUploadPurger(registry.coord, registry.driver, maintenance({ enabled: false, age: 1, interval: 1, dryrun: false }), disabled.logger)).to.equal(undefined);
    expect(disabled.lines).to.deep.equal([]);
    const readonly = capturingLogger();
    expect(startUploadPurger(registry.coord, registry.driver, maintenance({ enabled: true, age: 1, interval: 1, dryrun: false }, true), readonly.logger)).to.equal(undefined);
    expect(readonly.lines.map((l) => l.msg)).to.deep.equal(['upload purging is off while storage.maintenance.readonly is enabled']);
    expect(await status(old)).to.equal(204);
    await client.request('DELETE', old.path);
  });
});
