// htpasswd logins in a tree of workers: node:cluster spreads a guesser's connections over the workers, and the login
// limits must still count them together, as one process would. Each request here goes on a connection of its own
// (Connection: close), so the primary hands them to the workers in turn.
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { call } from '../../helpers/http-call.js';
import { makeTempDir, stopAll } from '../../helpers/processes.js';
import { startRegistryTree, type RegistryTree } from '../../helpers/registry-tree.js';

describe('cluster: htpasswd logins in a tree of workers', function () {
  this.timeout(60_000);
  let tree: RegistryTree;
  before(async () => {
    const dir = await makeTempDir('tree-login');
    const file = join(dir, 'htpasswd');
    const entries = await Promise.all(['trudy', 'wendy', 'alice'].map(async (user) => `${user}:${await bcrypt.hash(`${user}-secret`, 4)}`));
    // bob's hash is slow to check (cost 12), so that guesses sent at once overlap with the check of the first.
    await writeFile(file, `${entries.join('\n')}\nbob:${await bcrypt.hash('bob-secret', 12)}\n`);
    tree = await startRegistryTree({ workers: 2, auth: { htpasswd: { realm: 'tree', path: file } } });
  });
  after(async () => {
    await tree?.proc.stop();
    await stopAll();
  });

  const login = (user: string, password: string, localAddress: string) =>
    call(`${tree.url}/v2/`, { basic: [user, password], localAddress, headers: { connection: 'close' } });

  /** The workers whose access log has an answer with `status`, in the tree's log from line `since` on. */
  async function answeredBy(status: number, since = 0): Promise<Set<unknown>> {
    const lines = (await tree.logs()).slice(since).filter((l) => l.msg === 'request' && (l.res as { status?: number } | undefined)?.status === status);
    return new Set(lines.map((l) => l.worker));
  }

  // The first test: the access logs hold its answers alone.
  it('answers 429 after five wrong passwords from one address in all, whichever worker each reached', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await login('trudy', `wrong-${i}`, '127.0.0.5')).status);
    expect(statuses.slice(0, 5)).to.deep.equal(Array(5).fill(401));
    expect(statuses.slice(5)).to.deep.equal(Array(15).fill(429));
    expect(await answeredBy(401), 'both workers refused a wrong password').to.deep.equal(new Set([1, 2]));
    expect(await answeredBy(429), 'both workers refused past the budget').to.deep.equal(new Set([1, 2]));
    // The right password too, from that address, on either worker; the owner still gets in from another.
    const refused = [await login('trudy', 'trudy-secret', '127.0.0.5'), await login('trudy', 'trudy-secret', '127.0.0.5')];
    expect(refused.map((a) => a.status)).to.deep.equal([429, 429]);
    expect(Number(refused[0]?.headers['retry-after'])).to.be.within(1, 60);
    expect((refused[0]?.body.errors as Array<{ code: string }>)[0]?.code).to.equal('TOOMANYREQUESTS');
    expect((await login('trudy', 'trudy-secret', '127.0.0.6')).status).to.equal(200);
  });

  it('checks no more than the budget of 40 guesses sent at once over 40 connections', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login('wendy', `guess-${i}`, '127.0.0.7')));
    const checked = answers.filter((a) => a.status === 401).length;
    expect(checked).to.be.within(1, 5);
    expect(answers.filter((a) => a.status === 429)).to.have.length(40 - checked);
  });

  it('counts the same wrong guess sent 20 times at once over 20 connections as one failure', async () => {
    const same = await Promise.all(Array.from({ length: 20 }, () => login('bob', 'same-guess', '127.0.0.9')));
    expect(same.map((a) => a.status)).to.deep.equal(Array(20).fill(401));
    const more: number[] = [];
    for (let i = 0; i < 5; i++) more.push((await login('bob', `other-${i}`, '127.0.0.9')).status);
    expect(more).to.deep.equal([401, 401, 401, 401, 429]);
  });

  it('lets the right password in on every worker, and an unknown user out', async () => {
    const since = (await tree.logs()).length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => login('alice', 'alice-secret', '127.0.0.8')));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(8).fill(200));
    expect(await answeredBy(200, since)).to.deep.equal(new Set([1, 2]));
    expect((await login('mallory', 'alice-secret', '127.0.0.8')).status).to.equal(401);
  });
});
