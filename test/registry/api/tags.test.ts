import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf } from '../../helpers/oci.js';

describe('api: tags list', () => {
  let registry: TestRegistry;
  let client: Client;
  const tags = ['1.0', '1.1', '2.0', 'latest', 'Alpha', 'beta_1'];
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
    const image = await client.pushImage('t/app', 'seed');
    for (const tag of tags) await client.pushManifest('t/app', tag, image.body);
  });
  after(() => registry.stop());

  const all = () => [...tags, 'seed'].sort();

  it('lists every tag in lexical order', async () => {
    const res = await client.request('GET', '/v2/t/app/tags/list');
    expect(await res.json()).to.deep.equal({ name: 't/app', tags: all() });
    expect(res.headers.get('link')).to.equal(null);
  });

  it('pages with n and last, with a Link header to the next page until the end', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/v2/t/app/tags/list?n=3';
    let pages = 0;
    while (path) {
      const res = await client.request('GET', path);
      const body = (await res.json()) as { tags: string[] };
      expect(body.tags.length).to.be.at.most(3);
      seen.push(...body.tags);
      const link = res.headers.get('link');
      path = link ? (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] as string) : undefined;
      pages++;
    }
    expect(seen).to.deep.equal(all());
    expect(pages).to.equal(3);
  });

  it('last alone starts after that tag; n=0 gives an empty list', async () => {
    const res = await client.request('GET', '/v2/t/app/tags/list?last=2.0');
    expect(((await res.json()) as { tags: string[] }).tags).to.deep.equal(all().filter((t) => t > '2.0'));
    const zero = await client.request('GET', '/v2/t/app/tags/list?n=0');
    expect(((await zero.json()) as { tags: string[] }).tags).to.deep.equal([]);
  });

  it('a non-numeric or negative n is 400 PAGINATION_NUMBER_INVALID', async () => {
    for (const n of ['abc', '-1', '1.5']) {
      const res = await client.request('GET', `/v2/t/app/tags/list?n=${n}`);
      expect(res.status, n).to.equal(400);
      expect((await errorOf(res)).errors[0]?.code).to.equal('PAGINATION_NUMBER_INVALID');
    }
  });

  it('an unknown repository is 404 NAME_UNKNOWN', async () => {
    const res = await client.request('GET', '/v2/t/none/tags/list');
    expect(res.status).to.equal(404);
    expect((await errorOf(res)).errors[0]?.code).to.equal('NAME_UNKNOWN');
  });
});

describe('api: catalog', () => {
  let registry: TestRegistry;
  let client: Client;
  const names = ['a', 'a/b', 'a/b/c', 'a-b', 'b', 'library/alpine', 'z9'];
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
    for (const name of names) await client.pushImage(name, 'v1');
    // An upload alone does not make a repository.
    await client.request('POST', '/v2/uploading/only/blobs/uploads/');
  });
  after(() => registry.stop());

  it('lists repositories in path order, nested names included', async () => {
    const res = await client.request('GET', '/v2/_catalog');
    expect(await res.json()).to.deep.equal({ repositories: ['a', 'a/b', 'a/b/c', 'a-b', 'b', 'library/alpine', 'z9'] });
  });

  it('pages with n and last following Link headers, without repeats or gaps', async () => {
    for (const n of [1, 2, 3, 7]) {
      const seen: string[] = [];
      let path: string | undefined = `/v2/_catalog?n=${n}`;
      while (path) {
        const res = await client.request('GET', path);
        const body = (await res.json()) as { repositories: string[] };
        expect(body.repositories.length).to.be.at.most(n);
        seen.push(...body.repositories);
        const link = res.headers.get('link');
        path = link ? (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] as string) : undefined;
      }
      expect(seen, `n=${n}`).to.deep.equal(['a', 'a/b', 'a/b/c', 'a-b', 'b', 'library/alpine', 'z9']);
    }
  });

  it('last in the middle of a nested name continues after it', async () => {
    const res = await client.request('GET', '/v2/_catalog?last=a/b&n=10');
    expect(((await res.json()) as { repositories: string[] }).repositories).to.deep.equal(['a/b/c', 'a-b', 'b', 'library/alpine', 'z9']);
  });
});
