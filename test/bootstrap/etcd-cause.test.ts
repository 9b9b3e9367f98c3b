// How a failed etcd read is named; the races a real server shows now and then, pinned down with the errors they raise.
import { expect } from 'chai';
import { describeGrpcFailure, describeHttpFailure } from '../../bootstrap/src/etcd-cause.js';

function errnoError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('bootstrap etcd failure causes', () => {
  it('a reset over https is named TLS whether the client saw it inside the handshake or on its next read', () => {
    for (const message of ['read ECONNRESET', 'socket hang up', 'Client network socket disconnected before secure TLS connection was established']) {
      expect(describeHttpFailure(errnoError(message, 'ECONNRESET'), 'etcd', true)).to.match(/^TLS: the server hung up during the TLS handshake; is it serving plain HTTP\?/);
    }
    expect(describeGrpcFailure(new Error('14 UNAVAILABLE: No connection established. Last error: read ECONNRESET. Resolution note: '), 'etcd', 1000, true)).to.match(/^TLS: the server hung up/);
  });

  it('a reset over plain http stays a reset, not a TLS problem', () => {
    expect(describeHttpFailure(errnoError('socket hang up', 'ECONNRESET'), 'etcd', false)).to.equal('connection reset by the server (ECONNRESET)');
    expect(describeGrpcFailure(new Error('14 UNAVAILABLE: No connection established. Last error: read ECONNRESET. Resolution note: '), 'etcd', 1000, false)).to.equal('read ECONNRESET');
  });
});
