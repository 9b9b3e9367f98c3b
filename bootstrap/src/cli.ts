#!/usr/bin/env node
// The registry container's entrypoint: `bootstrap` renders config.yml from etcd and supervises `registry serve`;
// `bootstrap render` shows what a restart would run, without starting anything.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { maskSecrets, toYaml } from '../../registry/src/config/load.js';
import { createLogger, type Logger } from '../../registry/src/log.js';
import { saveLastGood } from './last-good.js';
import { plan, summary, type Plan } from './plan.js';
import { clip } from './json-value.js';
import { BootstrapError, EXIT, formatProblems, reportProblems } from './problem.js';
import { NO_ETCD, readSettings, type Settings } from './settings.js';
import { forwardSignals, startRegistryChild, type RegistryChild } from './supervise.js';
import { watchEtcd } from './watch.js';

const USAGE = `usage:
  bootstrap [--watch]            read etcd, render and validate config.yml, then run and supervise \`registry serve\`;
                                 --watch re-reads etcd every BOOTSTRAP_WATCH_INTERVAL seconds and restarts the
                                 registry gracefully on a change that validates (one that does not is refused)
  bootstrap render [--out FILE]  print the config a restart would run (secrets masked) and whether it is valid;
                                 --out writes it unmasked to FILE; exit 0 if bootstrap would start, 1 if not
settings come from the environment: ETCD_ENDPOINTS (\`none\`: no etcd, the template and REGISTRY_* alone), ETCD_CA,
ETCD_CERT, ETCD_KEY, ETCD_USERNAME, ETCD_PASSWORD, BOOTSTRAP_ETCD_TIMEOUT, BOOTSTRAP_WATCH_INTERVAL,
BOOTSTRAP_TEMPLATE, BOOTSTRAP_CONFIG_OUT, BOOTSTRAP_STATE_DIR, BOOTSTRAP_REGISTRY_CLI (see docs/bootstrap.md)
`;

async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, { mode: 0o600 });
}

function logPlan(p: Plan, log: Logger): void {
  for (const warning of p.warnings) log.warn({ config: p.origin }, clip(warning, 1000));
  if (p.origin === 'last-good') {
    log.error(
      { ...summary(p), lastGood: p.lastGoodPath, savedAt: p.savedAt.toISOString(), endpoints: p.failure.endpoints, causes: p.failure.causes },
      `ETCD NOT READABLE: STARTING ON THE LAST-GOOD CONFIG ${p.lastGoodPath} (rendered ${p.savedAt.toISOString()}); changes made in etcd since then are NOT in force until a restart that reads etcd`,
    );
  } else if (p.origin === 'no-etcd') {
    log.warn(summary(p), `config rendered from the template and REGISTRY_* alone: ETCD_ENDPOINTS=${NO_ETCD}, etcd is not read`);
  } else {
    log.info(summary(p), 'config rendered from etcd');
  }
}

async function saveState(stateDir: string, text: string, log: Logger): Promise<void> {
  // A read-only volume must not stop the registry; it only loses the fallback for the next etcd outage.
  await saveLastGood(stateDir, text).then(
    (path) => log.info({ path }, 'saved as last-good config'),
    (err: unknown) => log.warn({ err, stateDir }, 'cannot save the last-good config'),
  );
}

async function run(settings: Settings, log: Logger, watch: boolean): Promise<number> {
  let child: RegistryChild | undefined;
  let stopping = false;
  let restarting: Promise<void> = Promise.resolve();
  const watching = new AbortController();
  const stop = () => {
    stopping = true;
    watching.abort();
  };
  const stopForwarding = forwardSignals(() => child, log);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    const p = await plan(settings, process.env, log);
    logPlan(p, log);
    await writePrivate(settings.configOut, p.text);
    if (p.origin === 'etcd') await saveState(p.stateDir, p.text, log);
    let registry: RegistryChild = await startRegistryChild(settings.registryCli, settings.configOut, log);
    child = registry;

    // Drains the running registry, then starts one on the new config (unless a stop signal came meanwhile).
    const restart = async (text: string): Promise<void> => {
      await writePrivate(settings.configOut, text);
      await saveState(p.stateDir, text, log);
      registry.signal('SIGTERM');
      await registry.exited;
      if (stopping) return;
      registry = await startRegistryChild(settings.registryCli, settings.configOut, log);
      child = registry;
    };
    if (watch && settings.etcd !== NO_ETCD) {
      const apply = (rendered: { text: string }) => (restarting = restart(rendered.text));
      const options = { etcd: settings.etcd, intervalMs: settings.watchIntervalMs, template: p.template, env: process.env, log, running: p.text, apply, signal: watching.signal };
      watchEtcd(options).catch((err: unknown) => {
        log.error({ err }, 'watch stopped; the registry keeps running on its current config');
      });
    }
    // The registry's exit ends bootstrap, except for the exit of a registry that --watch is replacing.
    for (;;) {
      const current: RegistryChild = registry;
      const code = await current.exited;
      await restarting;
      if (registry === current || stopping) return code;
    }
  } finally {
    // Also keeps a restart that --watch began from starting a registry nobody would supervise.
    stop();
    stopForwarding();
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

async function render(settings: Settings, out: string | undefined, log: Logger): Promise<number> {
  const p = await plan(settings, process.env, log);
  if (out !== undefined) await writePrivate(out, p.text);
  process.stdout.write(toYaml(maskSecrets(p.config)));
  for (const warning of p.warnings) process.stderr.write(`warning: ${clip(warning, 1000)}\n`);
  if (p.origin === 'last-good') {
    process.stderr.write(
      `bootstrap render: etcd could not be read at ${p.failure.endpoints.join(', ')} (${p.failure.causes.join('; ')});\n` +
        `bootstrap would start on the LAST-GOOD config ${p.lastGoodPath} (rendered ${p.savedAt.toISOString()}), shown above\n`,
    );
  } else {
    if (p.origin === 'no-etcd') process.stderr.write(`bootstrap render: ETCD_ENDPOINTS=${NO_ETCD}: etcd is not read; the config is the template with REGISTRY_* applied\n`);
    const s = summary(p);
    process.stderr.write(`bootstrap render: valid; bootstrap would start the registry with auth: ${String(s.auth)}; storage: ${String(s.storage)}\n`);
  }
  return EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' }, watch: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`bootstrap: ${(err as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const [command, ...extra] = positionals;
  const rendering = command === 'render';
  if ((command !== undefined && !rendering) || extra.length > 0 || (values.out !== undefined && !rendering) || (values.watch === true && rendering)) {
    process.stderr.write(`bootstrap: unexpected arguments ${JSON.stringify(argv)}\n${USAGE}`);
    return EXIT.usage;
  }
  // `render` keeps stdout for the config; its progress and warnings go to stderr.
  const log = createLogger({ level: 'info', formatter: 'text', fields: { program: 'bootstrap' } }, rendering ? process.stderr : process.stdout);
  try {
    const settings = await readSettings(process.env);
    if (values.watch === true && settings.etcd === NO_ETCD) {
      process.stderr.write(`bootstrap: --watch reads etcd, and ETCD_ENDPOINTS=${NO_ETCD} says there is none; drop one of them\n${USAGE}`);
      return EXIT.usage;
    }
    return rendering ? await render(settings, values.out, log) : await run(settings, log, values.watch === true);
  } catch (err) {
    if (!(err instanceof BootstrapError)) throw err;
    if (rendering) {
      for (const line of formatProblems(err.problems)) process.stderr.write(`${line}\n`);
      process.stderr.write(`bootstrap render: NOT valid; bootstrap would refuse to start (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})\n`);
    } else {
      reportProblems(err.problems, log, 'fatal', 'refusing to start the registry', { exitCode: err.exitCode });
    }
    return err.exitCode;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bootstrap: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.invalid;
  },
);
