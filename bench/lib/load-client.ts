// node dist/bench/lib/load-client.js JOB: one of the processes of a load from many (load.ts). JOB is JSON: { url,
// method, path, headers, connections, seconds, warmupSeconds }. Warms up, then sustains the load and prints its
// Load as JSON on stdout.
import { Client } from './http.js';
import { sustain } from './sustain.js';

interface Job {
  url: string;
  method: 'GET' | 'HEAD';
  path: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

const job = JSON.parse(process.argv[2] ?? '') as Job;
const client = new Client(job.url, job.connections);
try {
  await sustain(client, job.method, job.path, job.headers, job.connections, job.warmupSeconds);
  process.stdout.write(JSON.stringify(await sustain(client, job.method, job.path, job.headers, job.connections, job.seconds)));
} finally {
  client.close();
}
