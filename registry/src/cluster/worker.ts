// One worker process of `registry serve`: it takes its config from the primary, serves http.addr (node:cluster shares
// the primary's listening socket among the workers), answers the primary's questions about its health, metrics and
// memory, and drains and exits 0 when told to stop, or on SIGTERM/SIGINT of its own (Ctrl-C signals the whole group).
import { createLogger } from '../log.js';
import { startRegistry, type RunningRegistry } from '../server.js';
import { SettingError } from '../setting-error.js';
import { isToWorker, type FromWorker, type Question, type ToWorker } from './messages.js';
import { remoteLogin } from './tree-login.js';
import { WorkerRelay } from './worker-relay.js';

/** Sends to the primary; resolves once the message is handed over (before an exit, which would drop it). */
function tell(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

/** The primary's start message, asked for once this process listens (a message sent earlier would be lost). */
function nextStart(): Promise<Extract<ToWorker, { type: 'registry:start' }>> {
  return new Promise((resolve) => {
    const listener = (value: unknown) => {
      if (!isToWorker(value) || value.type !== 'registry:start') return;
      process.off('message', listener);
      resolve(value);
    };
    process.on('message', listener);
    void tell({ type: 'registry:hello' });
  });
}

/** Runs the worker until it is told to stop; resolves with the exit code. */
export async function runWorker(): Promise<number> {
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    process.on('message', (value: unknown) => {
      if (isToWorker(value) && value.type === 'registry:stop') resolve('primary');
    });
  });
  const start = await Promise.race([nextStart(), stopped.then(() => undefined)]);
  if (start === undefined) return 0;
  const logger = createLogger(start.config.log).child({ worker: start.worker });
  let registry: RunningRegistry;
  try {
    registry = await startRegistry(start.config, logger, {
      runsJobs: start.runsJobs,
      worker: { id: start.worker, relay: new WorkerRelay(start.group), login: remoteLogin() },
    });
  } catch (err) {
    await tell(
      err instanceof SettingError
        ? { type: 'registry:failed', message: err.message, setting: err.setting }
        : { type: 'registry:failed', message: (err as Error).stack ?? String(err) },
    );
    return 1;
  }
  const { health, metrics } = registry;
  const answers: Record<Question, () => unknown> = {
    health: () => health.failing(),
    metrics: () => metrics?.registry.getMetricsAsJSON() ?? [],
    rss: () => process.memoryUsage.rss(),
  };
  process.on('message', (value: unknown) => {
    if (!isToWorker(value) || value.type !== 'registry:ask') return;
    const { id, question } = value;
    Promise.resolve(answers[question]()).then(
      (answer) => void tell({ type: 'registry:answer', id, value: answer }),
      (err: Error) => logger.warn({ err, question }, 'could not answer the primary'),
    );
  });
  void tell({ type: 'registry:ready', url: registry.url });
  const by = await stopped;
  logger.info({ by }, 'shutting down');
  await registry.close();
  logger.info('stopped');
  return 0;
}
