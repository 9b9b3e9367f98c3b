import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { AccountsIdentity } from '../../console-auth/src/identity.js';
import type { RunCheck } from '../../registry/src/auth/login-throttle.js';

const run: RunCheck = (check) => check();

/** A well-formed hash at a cost, without paying for it: these tests record what is compared, they do not compare. */
const at = (cost: number): string => `$2b$${String(cost).padStart(2, '0')}$${'a'.repeat(53)}`;

describe('console-auth accounts identity', function () {
  it('checks an unknown account against a hash of the cost the accounts use, so refusing it takes as long', async function () {
    for (const cost of [4, 12, 14]) {
      const compared: string[] = [];
      const identity = new AccountsIdentity(new Map([['alice', { password: at(cost), groups: [] }], ['bob', { password: at(cost), groups: [] }]]), async (_password, hash) => {
        compared.push(hash);
        return false;
      });
      expect(await identity.authenticate('nobody', 'guess', run)).to.equal(undefined);
      expect(await identity.authenticate('alice', 'guess', run)).to.equal(undefined);
      expect(compared.map((hash) => bcrypt.getRounds(hash))).to.deep.equal([cost, cost]);
      expect(compared[0]).not.to.equal(at(cost));
    }
  });

  it('checks a right password once, and answers it from memory until the account\'s hash changes', async function () {
    const hash = await bcrypt.hash('secret', 4);
    let compares = 0;
    const compare = async (password: string, against: string): Promise<boolean> => (compares++, bcrypt.compare(password, against));
    const identity = new AccountsIdentity(new Map([['alice', { password: hash, groups: ['team'] }]]), compare);
    for (let i = 0; i < 3; i++) expect(await identity.authenticate('alice', 'secret', run)).to.deep.include({ account: 'alice', groups: ['team'] });
    expect(compares).to.equal(1);
    const changed = new AccountsIdentity(new Map([['alice', { password: await bcrypt.hash('secret', 4), groups: [] }]]), compare);
    await changed.authenticate('alice', 'secret', run);
    expect(compares).to.equal(2);
  });
});
