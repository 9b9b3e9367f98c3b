import { expect } from 'chai';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../registry/src/config/duration.js';

describe('config: Go durations', () => {
  for (const [text, ms] of [
    ['168h', 604_800_000],
    ['24h', 86_400_000],
    ['10s', 10_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['.5m', 30_000],
    ['300ms', 300],
    ['2500us', 2.5],
    ['1500µs', 1.5],
    ['1000000ns', 1],
    ['0', 0],
    ['-1m', -60_000],
  ] as const) {
    it(`reads ${text} as ${ms} ms`, () => {
      expect(parseDuration(text)).to.equal(ms);
    });
  }

  for (const text of ['', '10', 'abc', '1d', '5 s', 'h', '1h30', '--1s', '1.2.3s']) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      expect(parseDuration(text)).to.equal(undefined);
    });
  }

  for (const [ms, text] of [
    [604_800_000, '168h'],
    [5_400_000, '1h30m'],
    [90_000, '1m30s'],
    [1500, '1s500ms'],
    [0, '0s'],
    [0.25, '250000ns'],
  ] as const) {
    it(`writes ${ms} ms as ${text}`, () => {
      expect(formatDuration(ms)).to.equal(text);
    });
  }

  it('reads back what it writes, for any whole number of nanoseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 15 }), (nanos) => {
        const ms = nanos / 1e6;
        expect(parseDuration(formatDuration(ms))).to.be.closeTo(ms, 1e-6);
      }),
      { numRuns: 500 },
    );
  });
});
