// A worker of `registry serve` that dies is replaced, and the others serve meanwhile: a pull it was serving is retried
// by the client and succeeds, and an upload it had taken chunks of completes through whichever worker gets the rest.
import { expect } from 'chai';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { heldPull } from '../../helpers/held-pull.js';
import { Client, sha256 } from '../../helpers/oci.js';
import { getOnNewConnection, registryTreeFor } from '../../helpers/registry-tree.js';
import { connectionOwner } from '../../helpers/socket-owner.js';
import { until } from '../../helpers/until.js';

const MiB = 1024 * 1024;

/** The path and query of an upload's Location, which the registry writes absolute. */
function pathOf(res: Response): string {
  const url = new URL(res.headers.get('location') as string);
  return url.pathname + url.search;
}

describe('cluster: a worker that dies', function () {
  this.timeout(60_000);
  const registryTree = registryTreeFor({ workers: 2 });

  it('is replaced while the other serves; the pull it was serving succeeds on retry, and an upload it had chunks of completes', async () => {
    const tree = registryTree();
    const client = new Client(tree.url);
    const name = 'cluster/crash';
    const blob = pseudoRandomBytes('pulled while a worker dies', 32 * MiB);
    const digest = await client.pushBlob(name, blob);
    const half = pseudoRandomBytes('uploaded across the crash', 2 * MiB);
    const started = await client.request('POST', `/v2/${name}/blobs/uploads/`);
    const first = await client.request('PATCH', pathOf(started), {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${MiB - 1}` },
      body: half.subarray(0, MiB),
    });
    expect(first.status).to.equal(202);

    const before = await tree.workers();
    const pull = await heldPull(`${tree.url}/v2/${name}/blobs/${digest}`);
    const victim = await connectionOwner(tree.port, pull.localPort, [...before.values()]);
    expect(victim, 'a worker holds the pull').to.be.a('number');
    const victimId = [...before].find(([, pid]) => pid === victim)?.[0] as number;
    process.kill(victim as number, 'SIGKILL');

    let cut = false;
    await pull.finish().catch(() => (cut = true));
    expect(cut, 'the pull was cut with its worker').to.equal(true);
    // The other worker serves at once, replacement or not.
    for (let i = 0; i < 6; i++) expect(await getOnNewConnection(`${tree.url}/v2/`)).to.equal(200);
    const retried = await client.request('GET', `/v2/${name}/blobs/${digest}`);
    expect(retried.status).to.equal(200);
    expect(sha256(Buffer.from(await retried.arrayBuffer()))).to.equal(digest);

    const rest = await client.request('PATCH', pathOf(first), {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${MiB}-${2 * MiB - 1}` },
      body: half.subarray(MiB),
    });
    expect(rest.status).to.equal(202);
    const done = await client.request('PUT', `${pathOf(rest)}${pathOf(rest).includes('?') ? '&' : '?'}digest=${sha256(half)}`);
    expect(done.status).to.equal(201);
    const uploaded = await client.request('GET', `/v2/${name}/blobs/${sha256(half)}`);
    expect(sha256(Buffer.from(await uploaded.arrayBuffer()))).to.equal(sha256(half));

    await until(async () => {
      const pid = (await tree.workers()).get(victimId);
      return pid !== undefined && pid !== victim;
    }, 20_000);
    const exit = (await tree.logs()).find((l) => l.msg === 'worker exited; starting another');
    expect(exit).to.deep.include({ worker: 0, child: victimId, childPid: victim, signal: 'SIGKILL' });
    // Its first death: replaced at once, or after the shortest pause when it died young.
    expect(exit?.restartInMs).to.be.at.most(500);
  });
});
