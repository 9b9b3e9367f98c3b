// The upstream's challenge as Docker Hub and token-auth registries write it, and the token cache: one request per
// scope while the token lives, a new one once it is about to expire or was refused.
import { expect } from 'chai';
import { parseChallenge } from '../../../registry/src/proxy/challenge.js';
import { TokenCache, TokenError, type TokenFetcher } from '../../../registry/src/proxy/tokens.js';

describe('proxy: upstream challenges and tokens', () => {
  it("parses Docker Hub's Bearer challenge, quoted values with commas and escapes included", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).to.deep.equal({
      scheme: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
    });
    expect(parseChallenge('bearer realm="https://a/t?x=1,2",service="say \\"hi\\""')).to.deep.equal({ scheme: 'bearer', realm: 'https://a/t?x=1,2', service: 'say "hi"' });
    expect(parseChallenge('Basic realm="registry"')).to.deep.equal({ scheme: 'basic' });
  });

  it('answers nothing it cannot use: no header, an unknown scheme, a Bearer without realm', () => {
    expect(parseChallenge(undefined)).to.equal(undefined);
    expect(parseChallenge('Negotiate abc')).to.equal(undefined);
    expect(parseChallenge('Bearer service="x"')).to.equal(undefined);
  });

  describe('TokenCache', () => {
    let now = 1_000_000;
    let calls: URL[] = [];
    let answer: { status: number; body: string } = { status: 200, body: '' };
    const fetcher: TokenFetcher = async (url, headers) => {
      calls.push(url);
      expect(headers.authorization).to.equal(`Basic ${Buffer.from('mirror:secret').toString('base64')}`);
      return answer;
    };
    const request = { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:library/alpine:pull', username: 'mirror', password: 'secret' };
    beforeEach(() => {
      calls = [];
      answer = { status: 200, body: JSON.stringify({ token: 'first', expires_in: 300 }) };
    });

    it('asks once per scope, with the service, scope and account, while the token lives; concurrent askers share the request', async () => {
      const cache = new TokenCache(fetcher, () => now);
      expect(await Promise.all([cache.get(request), cache.get(request)])).to.deep.equal(['first', 'first']);
      now += 290_000;
      expect(await cache.get(request)).to.equal('first');
      expect(calls).to.have.length(1);
      expect(Object.fromEntries(calls[0].searchParams)).to.deep.equal({ service: 'registry.example', scope: request.scope, account: 'mirror' });
    });

    it('asks again a little before the token expires, and after it was forgotten', async () => {
      const cache = new TokenCache(fetcher, () => now);
      await cache.get(request);
      now += 296_000;
      answer = { status: 200, body: JSON.stringify({ access_token: 'second' }) };
      expect(await cache.get(request)).to.equal('second');
      cache.forget(request);
      await cache.get(request);
      expect(calls).to.have.length(3);
    });

    it('a refusal or an answer without a token is a TokenError naming the service and the account', async () => {
      const cache = new TokenCache(fetcher, () => now);
      answer = { status: 401, body: '' };
      let error: unknown;
      await cache.get(request).catch((err: unknown) => (error = err));
      expect(error).to.be.instanceOf(TokenError);
      expect((error as Error).message).to.include('answered 401').and.include('as mirror');
      answer = { status: 200, body: '{}' };
      await cache.get(request).catch((err: unknown) => (error = err));
      expect((error as Error).message).to.include('answered no token');
    });
  });
});
