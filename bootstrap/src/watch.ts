// `bootstrap --watch`: reads etcd every BOOTSTRAP_WATCH_INTERVAL and re-renders on a change. A change that renders
// and validates is handed to `apply` (a graceful restart of the registry); one that does not is refused and logged,
// and the running registry keeps serving. A read that fails changes nothing either: the registry keeps the config it
// runs with, so a closed registry stays closed. Polling works the same on the v2 and the v3 keyspace.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { EtcdReadFailed, readSnapshot, type EtcdSettings, type EtcdSnapshot } from './etcd.js';
import { clip } from './json-value.js';
import { KEYS } from './keys.js';
import { BootstrapError, reportProblems } from './problem.js';
import { renderConfig, type Rendered } from './render.js';
import type { Template } from './template.js';

export interface WatchOptions {
  etcd: EtcdSettings;
  intervalMs: number;
  template: Template;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The config text the registry runs with now. */
  running: string;
  /** Resolves once the registry runs on `rendered`. */
  apply(rendered: Rendered): Promise<void>;
  signal: AbortSignal;
}

function fingerprint(snapshot: EtcdSnapshot): string {
  return JSON.stringify([...snapshot.values()].map((v) => [v.key, v.api, v.value, v.tooLarge, v.shadowsV2]));
}

const KEEPS_RUNNING = 'the registry keeps running on its current config';

export async function watchEtcd(o: WatchOptions): Promise<void> {
  let seen: string | undefined;
  let running = o.running;
  // What was last logged about a failed read, so that an outage is logged once, and its end too.
  let failure: string | undefined;
  for (;;) {
    await sleep(o.intervalMs, undefined, { signal: o.signal }).catch(() => undefined);
    if (o.signal.aborted) return;
    let snapshot: EtcdSnapshot;
    try {
      snapshot = await readSnapshot(o.etcd, KEYS, Math.min(Math.max(o.intervalMs, 1000), 5000));
    } catch (err) {
      const causes = err instanceof EtcdReadFailed ? err.causes : [clip(String(err), 300)];
      if (causes.join('; ') !== failure) o.log.warn({ causes }, `watch: etcd could not be read; ${KEEPS_RUNNING}`);
      failure = causes.join('; ');
      continue;
    }
    if (failure !== undefined) o.log.info('watch: etcd readable again');
    failure = undefined;
    const print = fingerprint(snapshot);
    if (print === seen) continue;
    seen = print;
    let rendered: Rendered;
    try {
      rendered = await renderConfig(o.template, snapshot, o.env);
    } catch (err) {
      if (err instanceof BootstrapError) {
        reportProblems(err.problems, o.log, 'error', `watch: change in etcd refused; ${KEEPS_RUNNING}`);
      } else {
        // A value no check foresaw must not end the watch: the next change still gets its turn.
        o.log.error({ error: clip(String(err), 300) }, `watch: change in etcd could not be rendered; ${KEEPS_RUNNING}`);
      }
      continue;
    }
    if (rendered.text === running || o.signal.aborted) continue;
    for (const warning of rendered.warnings) o.log.warn(clip(warning, 1000));
    o.log.info('watch: etcd changed; restarting the registry on the new config');
    await o.apply(rendered);
    running = rendered.text;
  }
}
