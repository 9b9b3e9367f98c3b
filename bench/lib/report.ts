// Turns per-round figures into the table (medians, and the median of the per-round ratios ours/distribution; ours
// with one worker beside, where measured) and the JSON record of the run.
import type { Ceilings } from './ceilings.js';
import type { TargetName } from './registries.js';
import { median } from './stats.js';
import type { Metric } from '../workloads/workload.js';

export type Rounds = Record<TargetName, number[]>;

export interface Row {
  id: string;
  label: string;
  better: 'higher' | 'lower';
  ours: number;
  /** Ours with one worker, for the rows measured so. */
  oursOneWorker?: number;
  distribution: number;
  /** ours / distribution: above 1 is better for ours when `better` is higher, below 1 when it is lower. */
  ratio: number;
  ceiling?: number;
  rounds: Rounds;
}

export function summarize(metric: Metric, rounds: Rounds, ceilings: Ceilings): Row {
  const ratios = rounds.ours.map((value, i) => value / (rounds.distribution[i] as number));
  const ceiling = metric.ceiling?.(ceilings);
  return {
    id: metric.id,
    label: metric.label,
    better: metric.better,
    ours: median(rounds.ours),
    ...(rounds['ours-1'].length > 0 && { oursOneWorker: median(rounds['ours-1']) }),
    distribution: median(rounds.distribution),
    ratio: median(ratios),
    ...(ceiling !== undefined && { ceiling }),
    rounds,
  };
}

function figure(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A Markdown table, readable in a terminal as well. */
export function table(rows: Row[]): string {
  const lines = [
    '| metric | ours | ours, 1 worker | distribution | ratio | ceiling |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((row) => {
      const arrow = row.better === 'higher' ? '↑' : '↓';
      const ceiling = row.ceiling === undefined ? '' : figure(row.ceiling);
      const one = row.oursOneWorker === undefined ? '' : figure(row.oursOneWorker);
      return `| ${row.label} ${arrow} | ${figure(row.ours)} | ${one} | ${figure(row.distribution)} | ${row.ratio.toFixed(2)} | ${ceiling} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
