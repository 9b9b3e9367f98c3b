// Which upstream a request goes to: containerd's ?ns=, a namespace prefix of the name, distribution's single
// remoteurl, or none (local storage only).
import { expect } from 'chai';
import type { ProxyConfig, UpstreamConfig } from '../../../registry/src/config/types.js';
import { Routes } from '../../../registry/src/proxy/routing.js';

const upstream = (remoteurl: string, namespace?: string): UpstreamConfig => ({
  remoteurl,
  ttl: 0,
  ...(namespace !== undefined && { namespace, prefix: namespace.replace(':', '_') }),
});

const hub = upstream('https://registry-1.docker.io', 'docker.io');
const quay = upstream('https://quay.io', 'quay.io');
const own = upstream('http://10.0.0.5:5000', 'registry.lain.local:5000');

describe('proxy: routing', () => {
  const namespaced = new Routes({ upstreams: [hub, quay, own] });

  it('a name under a namespace prefix goes to that upstream, without the prefix', () => {
    expect(namespaced.route('quay.io/coreos/etcd')).to.deep.equal({ upstream: quay, remote: 'coreos/etcd' });
    expect(namespaced.route('registry.lain.local_5000/app/web')).to.deep.equal({ upstream: own, remote: 'app/web' });
  });

  it("Docker Hub's official images get library/ when the name has a single component", () => {
    expect(namespaced.route('docker.io/alpine')?.remote).to.equal('library/alpine');
    expect(namespaced.route('docker.io/library/alpine')?.remote).to.equal('library/alpine');
  });

  it('without a remoteurl, a name under no prefix is local, and so is a request whose ns names no upstream', () => {
    expect(namespaced.route('team/app')).to.equal(undefined);
    expect(namespaced.route('docker.io/library/alpine', 'ghcr.io')).to.equal(undefined);
    expect(namespaced.route('docker.io/library/alpine', 'docker.io')?.upstream).to.equal(hub);
  });

  it('ns is matched to namespaces without regard to case', () => {
    expect(namespaced.namespaced('Docker.IO')).to.equal(hub);
    expect(namespaced.namespaced('registry.lain.local:5000')).to.equal(own);
    expect(namespaced.namespaced('ghcr.io')).to.equal(undefined);
  });

  describe("with distribution's single remoteurl", () => {
    const config: ProxyConfig = { remote: upstream('https://registry-1.docker.io'), upstreams: [quay] };
    const routes = new Routes(config);

    it('every name outside the namespaces mirrors the remoteurl, under its own name', () => {
      expect(routes.route('library/alpine')).to.deep.equal({ upstream: config.remote, remote: 'library/alpine' });
      expect(routes.route('quay.io/coreos/etcd')?.upstream).to.equal(quay);
    });

    it('containerd sending ns=docker.io for a Docker Hub remoteurl is served by it; an ns of another registry is local', () => {
      expect(routes.route('library/alpine', 'docker.io')?.upstream).to.equal(config.remote);
      expect(routes.route('library/alpine', 'registry-1.docker.io')?.upstream).to.equal(config.remote);
      expect(routes.route('library/alpine', 'ghcr.io')).to.equal(undefined);
    });

    it('all() lists the remoteurl first, then the namespaces', () => {
      expect(routes.all()).to.deep.equal([config.remote, quay]);
    });
  });
});
