// `bootstrap --watch`: reads etcd every BOOTSTRAP_WATCH_INTERVAL and re-renders on a change. A change that renders
// and validates is handed to `apply` (a graceful restart of the registry); one that does not is refused and logged,
// and the running registry keeps serving. Polling works the same on the v2 and the v3 keyspace.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { EtcdUnreachable, readSnapshot, type EtcdSnapshot } from './etcd.js';
import { KEYS } from './keys.js';
import { BootstrapError, formatProblems } from './problem.js';
import { renderConfig, type Rendered } from './render.js';
import type { Settings } from './settings.js';
import type { Template } from './template.js';

export interface WatchOptions {
  settings: Settings;
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
  return JSON.stringify([...snapshot.values()].map((v) => [v.key, v.api, v.value, v.shadowsV2]));
}

export async function watchEtcd(o: WatchOptions): Promise<void> {
  let seen: string | undefined;
  let running = o.running;
  let unreachable = false;
  for (;;) {
    await sleep(o.settings.watchIntervalMs, undefined, { signal: o.signal }).catch(() => undefined);
    if (o.signal.aborted) return;
    let snapshot: EtcdSnapshot;
    try {
      snapshot = await readSnapshot(o.settings.etcd, KEYS, Math.min(Math.max(o.settings.watchIntervalMs, 1000), 5000));
    } catch (err) {
      if (!(err instanceof EtcdUnreachable)) throw err;
      if (!unreachable) o.log.warn({ causes: err.causes }, 'watch: etcd unreachable; the registry keeps running on its current config');
      unreachable = true;
      continue;
    }
    unreachable = false;
    const print = fingerprint(snapshot);
    if (print === seen) continue;
    seen = print;
    let rendered: Rendered;
    try {
      rendered = await renderConfig(o.template, snapshot, o.env);
    } catch (err) {
      if (!(err instanceof BootstrapError)) throw err;
      for (const line of formatProblems(err.problems)) o.log.error(line);
      o.log.error('watch: change in etcd refused; the registry keeps running on its current config');
      continue;
    }
    if (rendered.text === running || o.signal.aborted) continue;
    for (const warning of rendered.warnings) o.log.warn(warning);
    o.log.info('watch: etcd changed; restarting the registry on the new config');
    await o.apply(rendered);
    running = rendered.text;
  }
}
