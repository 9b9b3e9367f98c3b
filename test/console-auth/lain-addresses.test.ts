// LAIN's address rules against a real etcd: /lain/config/registry_ip_whitelist (exact IPs, CIDRs, ranges that really
// match) and /lain/config/node_network give a caller what it asks; requests come from 127.0.0.x source addresses
// (all of 127.0.0.0/8 is loopback on Linux). Forwarded headers count only from a trusted proxy.
import { expect } from 'chai';
import { parseAddressList } from '../../console-auth/src/address-list.js';
import { withEtcdAuthentication } from '../helpers/etcd.js';
import { startEtcd, type Etcd } from '../helpers/processes.js';
import { startLainConsole, type LainConsole } from './lain-console.js';
import { call, decode, tokenUrl, type Answer } from '../helpers/http-call.js';

const PUSH = 'repository:hello:pull,push';
const PROXY = '127.0.1.60';

function actionsOf(answer: Answer): string[][] {
  expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  return (decode(answer.body.token).payload.access ?? []).map((a) => a.actions);
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`still not ${what}`);
}

describe('console-auth address rules: whitelist and node network from etcd', function () {
  let etcd: Etcd;
  let ca: LainConsole;

  const ask = (localAddress: string, headers: Record<string, string> = {}, scope = PUSH): Promise<Answer> =>
    call(tokenUrl(ca.realm, { service: ca.service, scope }), { localAddress, headers });
  const opened = async (address: string): Promise<boolean> => actionsOf(await ask(address))[0]!.length > 0;

  before(async function () {
    etcd = await startEtcd();
    // `etcdctl set` (v2) for the whitelist, `etcdctl put` (v3) for the node network: SAs use both.
    await etcd.setV2('/lain/config/registry_ip_whitelist', '127.0.0.2, 127.0.0.16/30,127.0.0.30-127.0.0.40, bogus, 127.0.0.9-127.0.0.5');
    await etcd.putV3('/lain/config/node_network', '127.0.1.0/24');
    ca = await startLainConsole({ etcd: { endpoints: [etcd.endpoint], poll: '100ms' }, http: { trustedproxies: [PROXY] } });
  });

  after(async function () {
    await ca.stop();
    await etcd.stop();
  });

  it('gives an exact address, a CIDR, a range and the node network what they ask, without credentials', async function () {
    for (const address of ['127.0.0.2', '127.0.0.16', '127.0.0.19', '127.0.0.30', '127.0.0.35', '127.0.0.40', '127.0.1.9']) {
      const answer = await ask(address, {}, `${PUSH},delete`);
      expect(actionsOf(answer), address).to.deep.equal([['pull', 'push', 'delete']]);
      expect(decode(answer.body.token).payload.sub, address).to.equal('');
    }
    const audit = ca.logLines().filter((line) => line.audit === 'grant' && line.address === '127.0.1.9');
    expect(audit.at(-1)).to.include({ addressRule: 'node network' });
  });

  it('gives nothing to addresses just outside each rule', async function () {
    for (const address of ['127.0.0.3', '127.0.0.15', '127.0.0.20', '127.0.0.29', '127.0.0.41', '127.0.2.9', '127.0.0.7']) {
      expect(actionsOf(await ask(address)), address).to.deep.equal([[]]);
    }
  });

  it('logs a whitelist entry it cannot read with the key and the fix, and applies the others', async function () {
    const warnings = ca.logLines().filter((line) => line.key === '/lain/config/registry_ip_whitelist').map((line) => String(line.msg));
    expect(warnings.some((msg) => msg.includes('"bogus" is not an IP address'))).to.equal(true);
    expect(warnings.some((msg) => msg.includes('"127.0.0.9-127.0.0.5" is a range whose first address comes after its last'))).to.equal(true);
    expect(warnings.every((msg) => msg.includes('etcdctl set /lain/config/registry_ip_whitelist'))).to.equal(true);
  });

  it('ignores X-Real-IP and X-Forwarded-For from an untrusted peer: the forged-header attack gets nothing', async function () {
    const forged = await ask('127.0.0.50', { 'X-Real-IP': '127.0.0.2', 'X-Forwarded-For': '127.0.0.2' });
    expect(actionsOf(forged)).to.deep.equal([[]]);
    expect(ca.logLines().filter((line) => line.audit === 'grant').at(-1)).to.include({ address: '127.0.0.50' });
  });

  it('takes the client from a trusted proxy\'s headers, never the proxy\'s own standing', async function () {
    expect(actionsOf(await ask(PROXY, { 'X-Real-IP': '127.0.0.2' }))).to.deep.equal([['pull', 'push']]);
    expect(actionsOf(await ask(PROXY, { 'X-Real-IP': '127.0.0.50' }))).to.deep.equal([[]]);
    // The right-most hop the proxy did not write itself is the client; hops left of it are the client's own words.
    expect(actionsOf(await ask(PROXY, { 'X-Forwarded-For': '127.0.0.50, 127.0.0.2' }))).to.deep.equal([['pull', 'push']]);
    expect(actionsOf(await ask(PROXY, { 'X-Forwarded-For': '127.0.0.2, 127.0.0.50' }))).to.deep.equal([[]]);
    // The proxy is in the node network, yet a request it forwards without naming the client gets nothing.
    expect(actionsOf(await ask(PROXY))).to.deep.equal([[]]);
  });

  it("keeps the node network it read while etcd's v3 keyspace refuses it (authentication on), not v2's \"absent\"", async function () {
    expect(await opened('127.0.1.7')).to.equal(true);
    await withEtcdAuthentication(etcd.endpoint, async () => {
      // Several polls with v3 refusing: v2 still answers that the key is absent there, as it always was.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await opened('127.0.1.7')).to.equal(true);
    });
    const warned = ca.logLines().some((line) => String(line.msg).startsWith('etcd unreachable') && JSON.stringify(line.causes).includes('v3'));
    expect(warned, 'the failed v3 read is logged').to.equal(true);
  });

  it('follows a changed whitelist within a poll, without a restart', async function () {
    await etcd.setV2('/lain/config/registry_ip_whitelist', '127.0.0.3');
    await waitFor('opened to 127.0.0.3', () => opened('127.0.0.3'));
    expect(await opened('127.0.0.2')).to.equal(false);
    await etcd.rmV2('/lain/config/registry_ip_whitelist');
    await waitFor('closed to 127.0.0.3', async () => !(await opened('127.0.0.3')));
    expect(await opened('127.0.1.9')).to.equal(true);
  });

  it('keeps the rules last read while etcd is down', async function () {
    await etcd.stop();
    await waitFor('told etcd is down', async () => ca.logLines().some((line) => String(line.msg).startsWith('etcd unreachable: keeping the LAIN keys last read')));
    expect(await opened('127.0.1.9')).to.equal(true);
    expect(await opened('127.0.0.3')).to.equal(false);
  });
});

describe('console-auth address lists', function () {
  it('match IPv4 and IPv6 addresses, CIDRs and ranges, IPv4-mapped peers as IPv4', function () {
    const { list, problems } = parseAddressList(['10.0.0.1', ' 10.1.0.0/16 ', '10.2.0.250-10.2.1.5', 'fd00::/8', '2001:db8::1-2001:db8::ff', '']);
    expect(problems).to.deep.equal([]);
    expect(list.size).to.equal(5);
    for (const yes of ['10.0.0.1', '::ffff:10.0.0.1', '10.1.255.255', '10.2.0.255', '10.2.1.0', '10.2.1.5', 'fd12::1', '2001:db8::80']) expect(list.has(yes), yes).to.equal(true);
    for (const no of ['10.0.0.2', '10.2.0.249', '10.2.1.6', 'fe80::1', '2001:db8::100', 'not an address']) expect(list.has(no), no).to.equal(false);
  });

  it('report every entry that is not an address, a CIDR or a range', function () {
    const { list, problems } = parseAddressList(['10.0.0.0/33', '10.0.0.1-fd00::1', 'example.com', '10.0.0.0/x', '10.0.0.1']);
    expect(list.size).to.equal(1);
    expect(problems).to.have.length(4);
  });
});
