import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf, OCI_INDEX, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';

describe('api: referrers (OCI 1.1)', () => {
  let registry: TestRegistry;
  let client: Client;
  let subject: { digest: string; size: number };
  let signature: { digest: string; size: number };
  let sbom: { digest: string; size: number };
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
    subject = await client.pushImage('r/app', 'v1');
    const ref = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size };
    signature = await client.pushImage('r/app', 'sig', ['sig'], { artifactType: 'application/vnd.example.sig', subject: ref, annotations: { who: 'ci' } });
    sbom = await client.pushImage('r/app', 'sbom', ['sbom'], { artifactType: 'application/spdx+json', subject: ref });
  });
  after(() => registry.stop());

  it('lists every manifest whose subject is the digest, as an OCI index with artifactType and annotations', async () => {
    const res = await client.request('GET', `/v2/r/app/referrers/${subject.digest}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(OCI_INDEX);
    const index = (await res.json()) as { schemaVersion: number; mediaType: string; manifests: { digest: string; artifactType: string; size: number; annotations?: object }[] };
    expect(index.schemaVersion).to.equal(2);
    expect(index.mediaType).to.equal(OCI_INDEX);
    const byDigest = new Map(index.manifests.map((m) => [m.digest, m]));
    expect(byDigest.get(signature.digest)?.artifactType).to.equal('application/vnd.example.sig');
    expect(byDigest.get(signature.digest)?.annotations).to.deep.equal({ who: 'ci' });
    expect(byDigest.get(signature.digest)?.size).to.equal(signature.size);
    expect(byDigest.get(sbom.digest)?.artifactType).to.equal('application/spdx+json');
    expect(index.manifests).to.have.length(2);
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const res = await client.request('GET', `/v2/r/app/referrers/${subject.digest}?artifactType=application/spdx%2Bjson`);
    expect(res.headers.get('oci-filters-applied')).to.equal('artifactType');
    const index = (await res.json()) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).to.deep.equal([sbom.digest]);
  });

  it('an unknown subject gives 200 with an empty index, not 404', async () => {
    const res = await client.request('GET', `/v2/r/app/referrers/${sha256('nothing')}`);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { manifests: unknown[] }).manifests).to.deep.equal([]);
  });

  it('a deleted referrer is no longer listed', async () => {
    const temp = await client.pushImage('r/app', 'temp', ['temp'], {
      artifactType: 'application/x-temp',
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
    });
    expect((await client.request('DELETE', `/v2/r/app/manifests/${temp.digest}`)).status).to.equal(202);
    const index = (await (await client.request('GET', `/v2/r/app/referrers/${subject.digest}`)).json()) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).to.not.include(temp.digest);
  });

  it('a repository that does not exist also gives 200 with an empty index: the spec forbids 404 here', async () => {
    const res = await client.request('GET', `/v2/r/none/referrers/${subject.digest}`);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { manifests: unknown[] }).manifests).to.deep.equal([]);
  });

  it('a malformed digest is 400 DIGEST_INVALID', async () => {
    const res = await client.request('GET', '/v2/r/app/referrers/sha256:xyz');
    expect(res.status).to.equal(400);
    expect((await errorOf(res)).errors[0]?.code).to.equal('DIGEST_INVALID');
  });
});
