// Fan-out: many client processes at once, each pushing a blob of its own (CI jobs pushing in parallel), or all pulling
// the same big blob (a deploy pulling one image onto every node). Measured on ours with one worker and with the
// default, beside distribution; the ceiling column is the same clients against a server that only moves bytes.
import type { BlobFile } from '../lib/blobs.js';
import { pushMonolithic } from '../lib/blobs.js';
import { fanOut } from '../lib/fanout.js';
import { Client, header, withQuery } from '../lib/http.js';
import { mib, type Sizes, type Workload } from './workload.js';

const PULL_REPO = 'bench/fanout-pull';

export function fanoutPushWorkload(sizes: Sizes): Workload {
  const n = sizes.clients;
  return {
    name: 'fanout-push',
    oneWorker: true,
    bytesPerRun: n * sizes.fanoutBlob,
    metrics: [
      {
        id: 'fanout-push',
        label: `push ${n} x ${mib(sizes.fanoutBlob)}, ${n} client processes at once (aggregate MB/s)`,
        better: 'higher',
        ceiling: (c) => c.clientPush,
      },
    ],
    async run(target, env, round) {
      const files = await Promise.all(Array.from({ length: n }, (_, i) => env.blobFile(`fanout-r${round}-${i}`, sizes.fanoutBlob)));
      const client = new Client(target.url, 1);
      let locations: string[];
      try {
        // The uploads start before the clock does; the timed part is every client's PUT of its blob.
        locations = await Promise.all(
          files.map(async (file, i) => {
            const reply = await client.call('POST', `/v2/bench/fanout-r${round}-${i}/blobs/uploads/`, [202], { 'content-length': 0 });
            return new URL(withQuery(client.pathOf(header(reply, 'location')), 'digest', file.digest), client.base).toString();
          }),
        );
      } finally {
        client.close();
      }
      const mbps = await fanOut(
        env.clientKind,
        files.map((file, i) => ({ method: 'PUT', url: locations[i] as string, file: file.path })),
        201,
      );
      return { values: { 'fanout-push': mbps } };
    },
  };
}

export function fanoutPullWorkload(sizes: Sizes): Workload {
  const n = sizes.clients;
  let blob: BlobFile | undefined;
  return {
    name: 'fanout-pull',
    oneWorker: true,
    bytesPerRun: n * sizes.bigBlob,
    metrics: [
      {
        id: 'fanout-pull',
        label: `pull ${mib(sizes.bigBlob)}, ${n} client processes at once (aggregate MB/s)`,
        better: 'higher',
        ceiling: (c) => c.clientPull,
      },
    ],
    async prepare(target, env) {
      blob = await env.blobFile('pull', sizes.bigBlob);
      const client = new Client(target.url, 1);
      try {
        await pushMonolithic(client, PULL_REPO, blob);
      } finally {
        client.close();
      }
    },
    async run(target, env) {
      if (!blob) throw new Error('fanout-pull: prepare() did not run');
      const url = `${target.url}/v2/${PULL_REPO}/blobs/${blob.digest}`;
      return { values: { 'fanout-pull': await fanOut(env.clientKind, Array.from({ length: n }, () => ({ method: 'GET', url })), 200) } };
    },
  };
}

/** The files the fan-out push uses in round 0, for the clients' ceiling. */
export function fanoutFiles(sizes: Sizes, env: { blobFile(seed: string, size: number): Promise<BlobFile> }): Promise<BlobFile[]> {
  return Promise.all(Array.from({ length: sizes.clients }, (_, i) => env.blobFile(`fanout-r0-${i}`, sizes.fanoutBlob)));
}
