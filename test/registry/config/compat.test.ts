// The same file and environment, read by distribution 2.8.2 (`docker-registry serve`) and by this module, must mean
// the same thing: proved on the behaviour distribution shows over HTTP.
import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import { freePort, withPortRetry } from '../../helpers/ports.js';
import { httpReady, makeTempDir, startProcess, stopAll, type ManagedProcess } from '../../helpers/processes.js';
import { toolPath } from '../../helpers/tools.js';
import { load } from './parse.js';

const TEMPLATE_PATH = fileURLToPath(new URL('../../../../etc/config.yml', import.meta.url));
const MISSING_DIGEST = `sha256:${'0'.repeat(64)}`;

interface Served {
  url: string;
  proc: ManagedProcess;
}

/** docker-registry serving CONFIG_TEXT with ENV on a free loopback port, its storage in its own temp dir. */
function serve(configText: string, env: Record<string, string>): Promise<Served> {
  return withPortRetry(async () => {
    const dir = await makeTempDir('config-compat');
    const path = join(dir, 'config.yml');
    await writeFile(path, configText);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const inherited = Object.keys(process.env).filter((k) => k.startsWith('REGISTRY_') || k === 'AWS_CA_BUNDLE');
    const proc = await startProcess({
      name: 'distribution',
      command: toolPath('docker-registry'),
      args: ['serve', path],
      dir,
      env: {
        ...Object.fromEntries(inherited.map((k) => [k, undefined])),
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'data'),
        ...env,
        REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
      },
      ready: httpReady(`${url}/v2/`),
    });
    return { url, proc };
  });
}

describe('config: distribution 2.8.2 reads our files and variables the same way', () => {
  after(stopAll);

  it('accepts the YAML we write for a config and honours its headers and delete setting', async () => {
    const { config } = load('version: 0.1\nstorage:\n  filesystem:\n  delete: {enabled: true}\nhttp:\n  headers: {X-Config-Check: [written]}\n');
    const served = await serve(toYaml(toDistributionShape(config)), {});
    try {
      const base = await fetch(`${served.url}/v2/`);
      expect(base.status).to.equal(200);
      expect(base.headers.get('x-config-check')).to.equal('written');
      // With delete on, distribution looks the manifest up (404) instead of refusing the method (405).
      const del = await fetch(`${served.url}/v2/library/app/manifests/${MISSING_DIGEST}`, { method: 'DELETE' });
      expect(config.storage.delete.enabled).to.equal(true);
      expect(del.status).to.equal(404);
    } finally {
      await served.proc.stop();
    }
  });

  it('REGISTRY_AUTH=htpasswd with PATH and REALM over etc/config.yml: the same realm for both', async () => {
    const dir = await makeTempDir('config-htpasswd');
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, '');
    const env = { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: htpasswd, REGISTRY_AUTH_HTPASSWD_REALM: 'LAIN Registry' };
    const template = await readFile(TEMPLATE_PATH, 'utf8');
    const ours = load(template, env).config;
    const served = await serve(template, env);
    try {
      const res = await fetch(`${served.url}/v2/`);
      expect(res.status).to.equal(401);
      expect(ours.auth?.type).to.equal('htpasswd');
      expect(res.headers.get('www-authenticate')).to.equal(`Basic realm="${ours.auth?.realm}"`);
    } finally {
      await served.proc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('REGISTRY_STORAGE_DELETE_ENABLED=false over etc/config.yml turns delete off for both', async () => {
    const env = { REGISTRY_STORAGE_DELETE_ENABLED: 'false' };
    const template = await readFile(TEMPLATE_PATH, 'utf8');
    expect(load(template, env).config.storage.delete.enabled).to.equal(false);
    const served = await serve(template, env);
    try {
      const del = await fetch(`${served.url}/v2/library/app/manifests/${MISSING_DIGEST}`, { method: 'DELETE' });
      expect(del.status).to.equal(405);
    } finally {
      await served.proc.stop();
    }
  });
});
