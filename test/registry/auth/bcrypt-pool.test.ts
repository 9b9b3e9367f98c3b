import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { BcryptPool } from '../../../registry/src/auth/bcrypt-pool.js';

describe('bcrypt in worker threads (registry/src/auth/bcrypt-pool)', function () {
  it('answers right and wrong passwords, more comparisons at once than threads', async function () {
    const hash = await bcrypt.hash('secret', 4);
    const pool = new BcryptPool(2);
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => pool.compare(i % 3 === 0 ? 'secret' : `wrong-${i}`, hash)));
    expect(answers).to.deep.equal([true, false, false, true, false, false, true, false, false]);
  });

  it('stops threads that stay idle, and starts them again when needed', async function () {
    const hash = await bcrypt.hash('secret', 4);
    const pool = new BcryptPool(2, 20);
    const both = Promise.all([pool.compare('secret', hash), pool.compare('x', hash)]);
    expect(pool.threadCount).to.equal(2);
    expect(await both).to.deep.equal([true, false]);
    while (pool.threadCount > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await pool.compare('secret', hash)).to.equal(true);
  });

  it('rejects a hash bcrypt cannot read with its message, and keeps answering after it', async function () {
    const pool = new BcryptPool(1);
    const refused = await pool.compare('x', `$2b$99$${'a'.repeat(53)}`).catch((err: Error) => err.message);
    expect(refused).to.equal('bcrypt: Illegal number of rounds (4-31): 99');
    expect(await pool.compare('x', await bcrypt.hash('x', 4))).to.equal(true);
  });
});
