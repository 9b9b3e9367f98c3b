// A sustained load: `connections` clients each sending the next request as soon as the last one answered.
import { performance } from 'node:perf_hooks';
import { drain, type Client } from './http.js';

export interface Load {
  /** Requests answered in the time measured. */
  count: number;
  elapsedMs: number;
  /** Of every request, in ms. */
  latencies: number[];
}

export async function sustain(client: Client, method: 'GET' | 'HEAD', path: string, headers: Record<string, string>, connections: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const connection = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const res = await client.send(method, path, headers);
      await drain(res);
      if (res.statusCode !== 200) throw new Error(`${method} ${path}: HTTP ${res.statusCode}`);
      latencies.push(performance.now() - sent);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, connection));
  return { count: latencies.length, elapsedMs: performance.now() - started, latencies };
}
