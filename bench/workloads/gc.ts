// One garbage collection of a large registry, generated straight into its storage (nothing pushed through HTTP):
// ours (`registry garbage-collect`, online: lease, registration, 5 s grace, guarded sweep) against distribution 2.8's
// offline `docker-registry garbage-collect` on identical data; and push throughput while ours collects.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { runTool, toolPath } from '../../test/helpers/tools.js';
import { runRegistry } from '../../test/helpers/registry-cli.js';
import type { LayoutSpec } from '../../test/helpers/registry-layout.js';
import { blobBytes, pushMonolithic, sha256 } from '../lib/blobs.js';
import { Client } from '../lib/http.js';
import { OCI_MANIFEST, putManifest } from '../lib/manifests.js';

const execFileAsync = promisify(execFile);

export interface GcSizes {
  manifests: number;
  blobs: number;
}

/** Repositories of 100 images; each image a manifest, a config and layers, every blob its own; 1 in 5 deleted. */
export function layoutSpec(sizes: GcSizes, seed: string): LayoutSpec {
  const perRepository = Math.min(100, sizes.manifests);
  return {
    repositories: Math.ceil(sizes.manifests / perRepository),
    manifests: perRepository,
    layers: Math.max(1, Math.round(sizes.blobs / sizes.manifests) - 2),
    tagEvery: 2,
    deleteEvery: 5,
    layerSize: 256,
    seed,
  };
}

/** config.yml for a storage section (distribution's keys), read alike by both collectors. */
export async function writeConfig(dir: string, name: string, storage: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.yml`);
  const config = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { ...storage, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: { addr: '127.0.0.1:0' },
  };
  await writeFile(path, stringify(config));
  return path;
}

export interface Collected {
  /** Wall time of the whole command, start to exit. */
  wallMs: number;
  /** Blobs it deleted. */
  blobsDeleted: number;
  /** Ours: mark and sweep alone, after the grace (the summary's "took"). */
  workMs?: number;
}

export async function collectOurs(config: string): Promise<Collected> {
  const started = performance.now();
  // A collection during pushes runs at low priority and may take minutes: the helper's 60 s limit is for tests.
  // Not --quiet: its progress lines on stderr say where a run that failed had got to.
  const run = await runRegistry(['garbage-collect', '--min-age', '0s', config], {}, { timeoutMs: 30 * 60_000 });
  const wallMs = performance.now() - started;
  const tail = run.stderr.split('\n').slice(-30).join('\n');
  if (run.code !== 0) throw new Error(`registry garbage-collect exited ${run.code}; the end of its stderr:\n${tail}`);
  const deleted = /deleted \d+ manifests?, (\d+) blobs?/.exec(run.stdout);
  const took = /took ([\d.]+)s/.exec(run.stdout);
  if (!deleted || !took) throw new Error(`no summary in its output; the end of its stderr:\n${tail}`);
  return { wallMs, blobsDeleted: Number(deleted[1]), workMs: Number(took[1]) * 1000 };
}

export async function collectDistribution(config: string): Promise<Collected> {
  const started = performance.now();
  // AWS_CA_BUNDLE makes its S3 driver panic (FIELD-NOTES).
  const output = await runTool(toolPath('docker-registry'), ['garbage-collect', config], { AWS_CA_BUNDLE: undefined });
  const wallMs = performance.now() - started;
  return { wallMs, blobsDeleted: output.split('\n').filter((line) => line.startsWith('blob eligible for deletion')).length };
}

/** Copies a storage tree with its times (the collectors read ages), outside any timed step. */
export async function copyTree(from: string, to: string): Promise<void> {
  await execFileAsync('cp', ['-a', from, to]);
  await execFileAsync('sync');
}

export interface PushRate {
  images: number;
  ms: number;
  perSecond: number;
}

/**
 * Pushes small images (a config, a 16 KiB layer, a manifest by tag: three guarded writes each) with `concurrency`
 * clients until `until` resolves.
 */
export async function pushUntil(url: string, concurrency: number, seed: string, until: Promise<unknown>): Promise<PushRate> {
  const client = new Client(url, concurrency);
  let done = false;
  void until.finally(() => (done = true));
  let images = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let n = 0; !done; n++) {
        const repo = `push/w${worker}`;
        const config = blobBytes(`${seed} ${worker} ${n} config`, 256);
        const layer = blobBytes(`${seed} ${worker} ${n} layer`, 16 * 1024);
        await pushMonolithic(client, repo, config);
        await pushMonolithic(client, repo, layer);
        const body = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
            layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.bytes.length }],
          }),
        );
        await putManifest(client, repo, `t${n % 10}-${sha256(body).slice(7, 15)}`, body);
        if (!done) images++;
      }
    }),
  );
  const ms = performance.now() - started;
  client.close();
  return { images, ms, perSecond: (images / ms) * 1000 };
}
