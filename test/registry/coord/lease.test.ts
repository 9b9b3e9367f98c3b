import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type { Lease } from '../../../registry/src/coord/coordinator.js';
import { acquireLease, type LeaseStore } from '../../../registry/src/coord/lease.js';
import { createLogger } from '../../../registry/src/log.js';

const logger = createLogger({ level: 'error', formatter: 'json', fields: {} }, new Writable({ write: (_c, _e, done) => done() }));

/** A store that holds one lease and takes `renewMs` to answer each renewal, as a busy bucket does. */
function slowStore(renewMs: number): LeaseStore & { renewals: number } {
  return {
    renewals: 0,
    async claim() {
      return undefined;
    },
    async renew() {
      this.renewals++;
      await sleep(renewMs);
      return true;
    },
    async release() {},
  };
}

describe('coord: lease renewal', () => {
  it('keeps a lease whose store takes a quarter of the ttl to answer each renewal: the next attempt starts a third of the ttl after the last one began', async function () {
    this.timeout(10_000);
    // Attempts at 667, 1333, 2000 ms...; timed from when the last one ended, the second would come at 1167 ms, past
    // half the ttl. A third of a second of event-loop lag is tolerated either way.
    const ttlMs = 2000;
    const store = slowStore(ttlMs / 4);
    const lease = (await acquireLease(store, 'job', 'holder-1', ttlMs, logger)) as Lease;
    await sleep(3500);
    expect(lease.signal.aborted, String(lease.signal.reason)).to.equal(false);
    expect(store.renewals).to.be.at.least(4);
    await lease.release();
  });

  it('gives the lease up when a renewal takes longer than half the ttl', async function () {
    this.timeout(10_000);
    const ttlMs = 2000;
    const lease = (await acquireLease(slowStore(ttlMs), 'job', 'holder-1', ttlMs, logger)) as Lease;
    await sleep(3500);
    expect(lease.signal.aborted).to.equal(true);
    expect(String(lease.signal.reason)).to.match(/not renewed for \d+ ms of a 2000 ms lease/);
    await lease.release();
  });
});
