import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { decoyHash } from '../../../registry/src/auth/bcrypt-decoy.js';

/** A well-formed hash at a cost, without paying for it: the tests only read its cost. */
const at = (cost: number): string => `$2b$${String(cost).padStart(2, '0')}$${'a'.repeat(53)}`;

describe('the decoy hash for unknown accounts (registry/src/auth/bcrypt-decoy)', function () {
  it('costs what most accounts cost, the higher on a tie, and 10 with no accounts', function () {
    expect(bcrypt.getRounds(decoyHash([at(12), at(12), at(10)]))).to.equal(12);
    expect(bcrypt.getRounds(decoyHash([at(8), at(11)]))).to.equal(11);
    expect(bcrypt.getRounds(decoyHash([at(4)]))).to.equal(4);
    expect(bcrypt.getRounds(decoyHash([]))).to.equal(10);
  });

  it('is a hash bcrypt reads and no password matches, different each time', function () {
    const decoy = decoyHash([at(4)]);
    for (const password of ['', 'password', 'a'.repeat(72)]) expect(bcrypt.compareSync(password, decoy)).to.equal(false);
    expect(decoyHash([at(4)])).not.to.equal(decoy);
  });
});
