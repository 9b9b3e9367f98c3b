// The shape every workload has: untimed preparation once per registry, then one timed run per round.
import type { BlobFile } from '../lib/blobs.js';
import type { Ceilings } from '../lib/ceilings.js';
import type { ClientKind } from '../lib/fanout.js';
import type { ConfigExtra, Target, TargetName } from '../lib/registries.js';

export interface Sizes {
  bigBlob: number;
  chunk: number;
  smallBlobs: number;
  smallBlobSize: number;
  smallConcurrency: number;
  pullConcurrency: number;
  manifests: number;
  manifestConcurrency: number;
  loadConnections: number;
  loadSeconds: number;
  listEntries: number;
  pageSize: number;
  /** Client processes of the fan-out rows (--clients). */
  clients: number;
  /** Each fan-out push client's blob. */
  fanoutBlob: number;
  /** Connections of the fan-out manifest load, split between loadProcesses client processes. */
  fanoutConnections: number;
  loadProcesses: number;
}

export interface Metric {
  id: string;
  label: string;
  better: 'higher' | 'lower';
  /** The machine's limit for this metric, in the metric's unit (undefined where it was not measured). */
  ceiling?: (c: Ceilings) => number | undefined;
}

export interface Env {
  sizes: Sizes;
  /** What the fan-out rows' client processes are (--client). */
  clientKind: ClientKind;
  /** A pseudo-random file of `size` bytes for `seed` in the work dir, written and hashed once, shared by both registries. */
  blobFile(seed: string, size: number): Promise<BlobFile>;
  /** Another registry of that kind with the shared settings plus `extra`, storing under `<name>-<label>`; stopped with the bench. */
  startRegistry(name: TargetName, extra: ConfigExtra, label: string): Promise<Target>;
}

export interface RunResult {
  values: Record<string, number>;
  /** What the run observed beyond its figures (e.g. pages followed), kept in the JSON. */
  details?: Record<string, unknown>;
}

export interface Workload {
  /** The name `--only` takes. */
  name: string;
  metrics: Metric[];
  /** Measured on ours with one worker as well as with the default: the rows where more workers should tell. */
  oneWorker?: boolean;
  /**
   * Bytes one run moves, for its rows of CPU per GiB: the registry's, and the whole machine's (clients and kernel
   * included), which bounds the throughput of a machine whose cores the clients and the registry fill.
   */
  bytesPerRun?: number;
  prepare?(target: Target, env: Env): Promise<void>;
  run(target: Target, env: Env, round: number): Promise<RunResult>;
  /** Releases what prepare() started besides registries (which the bench stops itself). */
  cleanup?(): Promise<void>;
}

/** "256 MiB" for labels. */
export function mib(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB`;
}
