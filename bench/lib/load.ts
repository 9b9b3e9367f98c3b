// A sustained load from several client processes (load-client.ts), so that no single Node client's core is the
// limit of a registry serving from many: the connections are split between the processes.
import { fileURLToPath } from 'node:url';
import { runTool } from '../../test/helpers/tools.js';
import { percentile } from './stats.js';
import type { Load } from './sustain.js';

const loadClient = fileURLToPath(new URL('./load-client.js', import.meta.url));

export interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
}

export interface LoadJob {
  url: string;
  method: 'GET' | 'HEAD';
  path: string;
  headers: Record<string, string>;
  connections: number;
  processes: number;
  seconds: number;
  warmupSeconds: number;
}

export async function loadFromProcesses(job: LoadJob): Promise<LoadResult> {
  const processes = Math.min(job.processes, job.connections);
  const loads = await Promise.all(
    Array.from({ length: processes }, async (_, i) => {
      // The connections split as evenly as they go: 96 over 16 processes is 6 each.
      const connections = Math.floor(job.connections / processes) + (i < job.connections % processes ? 1 : 0);
      const { processes: _processes, ...rest } = job;
      return JSON.parse(await runTool(process.execPath, [loadClient, JSON.stringify({ ...rest, connections })])) as Load;
    }),
  );
  const latencies = loads.flatMap((l) => l.latencies);
  return {
    perSecond: loads.reduce((sum, l) => sum + l.count / (l.elapsedMs / 1000), 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
