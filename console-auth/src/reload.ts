// Reloading console.yml while serving: on a change of the file (or when asked, e.g. on SIGHUP) the new file is read,
// validated and loaded in full; a bad one is refused and logged and the old policy stays in force.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../registry/src/log.js';
import type { ConsoleApp } from './app.js';
import { loadConsoleConfig } from './config.js';

export interface ConfigWatcher {
  /** Reloads now; resolves true when the new file is in force, false when it was refused. */
  reload(): Promise<boolean>;
  stop(): void;
}

// Editors save in bursts (truncate, write, rename); one reload after the burst reads the finished file.
const SETTLE_MS = 100;

export function watchConfig(path: string, consoleApp: ConsoleApp, logger: Logger): ConfigWatcher {
  let running: Promise<boolean> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const reloadOnce = async (): Promise<boolean> => {
    try {
      const next = await loadConsoleConfig(path);
      const previous = consoleApp.config;
      await consoleApp.reload(next);
      if (next.http.addr !== previous.http.addr) {
        logger.warn({ was: previous.http.addr, now: next.http.addr }, 'http.addr changed in console.yml: still listening on the old address until a restart');
      }
      logger.info({ config: path, accounts: next.accounts.size, rules: next.rules.length, mode: next.mode }, 'console.yml reloaded');
      return true;
    } catch (err) {
      logger.error({ config: path, error: (err as Error).message }, 'console.yml refused; the previous configuration stays in force');
      return false;
    }
  };

  // One reload at a time; a request during a reload runs once more afterwards, so the last change always lands.
  const reload = (): Promise<boolean> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      let ok: boolean;
      do {
        again = false;
        ok = await reloadOnce();
      } while (again);
      running = undefined;
      return ok;
    })();
    return running;
  };

  // The directory is watched, not the file: saving by rename replaces the file's inode and a file watch goes deaf.
  const watcher: FSWatcher = watch(dirname(path), (_event, filename) => {
    if (filename !== basename(path)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), SETTLE_MS);
  });

  return {
    reload,
    stop() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
