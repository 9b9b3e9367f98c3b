// The primary's debug server speaks for the whole process tree: one scrape counts every worker's requests once, and
// reports each process's resident memory and their total; /debug/health answers for the workers.
import { expect } from 'chai';
import { getOnNewConnection, registryTreeFor, type RegistryTree } from '../../helpers/registry-tree.js';
import { until } from '../../helpers/until.js';

function sample(text: string, series: string): number[] {
  const escaped = series.replace(/[{}"=,]/g, (c) => `\\${c}`);
  return [...text.matchAll(new RegExp(`^${escaped} ([0-9.e+]+)$`, 'gm'))].map((m) => Number(m[1]));
}

describe('cluster: health and metrics of the whole tree', function () {
  this.timeout(60_000);
  const registryTree = registryTreeFor({ workers: 2 });
  let tree: RegistryTree;
  beforeEach(() => {
    tree = registryTree();
  });

  it('counts N requests spread over the workers as N in one scrape', async () => {
    // A route nothing else asks for (the readiness probe asks for /v2/).
    const path = '/v2/cluster/counted/manifests/absent';
    const n = 24;
    for (let i = 0; i < n; i++) expect(await getOnNewConnection(`${tree.url}${path}`)).to.equal(404);
    const served = async () => (await tree.logs()).filter((l) => l.msg === 'request' && (l.req as { url?: string }).url === path);
    await until(async () => (await served()).length === n);
    expect(new Set((await served()).map((l) => l.worker)), 'both workers served some').to.deep.equal(new Set([1, 2]));

    const text = await (await fetch(`${tree.debugUrl}/metrics`)).text();
    expect(sample(text, 'registry_http_requests_total{route="manifest",method="GET",code="404"}')).to.deep.equal([n]);
  });

  it('reports the resident memory of each process under its worker id, and of the tree in total', async () => {
    const text = await (await fetch(`${tree.debugUrl}/metrics`)).text();
    const each = ['0', '1', '2'].map((id) => sample(text, `registry_worker_resident_memory_bytes{worker="${id}"}`));
    for (const values of each) expect(values).to.have.length(1);
    const [total] = sample(text, 'registry_process_resident_memory_bytes');
    // Sampled a moment apart from the per-process figures: near their sum, not equal to it.
    const sum = each.flat().reduce((a, b) => a + b, 0);
    expect(total).to.be.within(sum * 0.9, sum * 1.1);
    const started = (await tree.logs()).find((l) => l.worker === 0 && l.msg === 'registry listening');
    expect(Object.keys(started?.rssMiB as object)).to.deep.equal(['0', '1', '2']);
    expect(started?.totalMiB).to.be.a('number');
  });

  it('/debug/health answers 200 {} for the workers', async () => {
    const res = await fetch(`${tree.debugUrl}/debug/health`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({});
  });
});
