// Decides the config the registry starts with: freshly rendered from etcd; or, when etcd cannot be read for
// BOOTSTRAP_ETCD_TIMEOUT, the last-good one; or, only when ETCD_ENDPOINTS=none says so, the template and the
// environment alone.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../registry/src/config/types.js';
import { EtcdReadFailed, readWithRetry, type EtcdSnapshot } from './etcd.js';
import { KEYS } from './keys.js';
import { loadLastGood } from './last-good.js';
import { BootstrapError, EXIT } from './problem.js';
import { renderConfig, templateOrigin, validate } from './render.js';
import type { Settings } from './settings.js';
import { loadTemplate, type Template } from './template.js';

/** The data volume, where the state dir goes when the template's storage is not a filesystem. */
const DATA_VOLUME = '/var/lib/registry';

interface Common {
  text: string;
  config: Config;
  warnings: string[];
  template: Template;
  stateDir: string;
}

export type Plan =
  | (Common & { origin: 'etcd'; snapshot: EtcdSnapshot })
  | (Common & { origin: 'last-good'; lastGoodPath: string; savedAt: Date; failure: EtcdReadFailed })
  | (Common & { origin: 'no-etcd' });

export async function plan(settings: Settings, env: NodeJS.ProcessEnv, log: Logger): Promise<Plan> {
  const template = await loadTemplate(settings.templatePath);
  // Only the storage driver is wanted here. REGISTRY_AUTH_* may complete an auth section that only etcd's key brings
  // (REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE beside `lainctl auth open`): the template alone would fail on it.
  const storageEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !name.toUpperCase().startsWith('REGISTRY_AUTH')));
  const base = validate(template.text, storageEnv, templateOrigin(template.path, false)).config.storage.driver;
  // Beside the data (the template's, REGISTRY_* applied, whatever etcd says), so it survives `docker rm` as images do.
  const stateDir = settings.stateDir ?? join(base.type === 'filesystem' ? base.filesystem.rootdirectory : DATA_VOLUME, '.bootstrap');
  if (settings.etcd === 'none') {
    // No key is read, so no key is absent either: the template and REGISTRY_* say everything.
    return { origin: 'no-etcd', ...(await renderConfig(template, new Map(), env)), template, stateDir };
  }
  let snapshot: EtcdSnapshot;
  try {
    snapshot = await readWithRetry(settings.etcd, KEYS, settings.etcdTimeoutMs, log);
  } catch (err) {
    if (!(err instanceof EtcdReadFailed)) throw err;
    const lastGood = await loadLastGood(stateDir);
    if (lastGood === undefined) {
      throw new BootstrapError(
        [{
          source: `etcd at ${err.endpoints.join(', ')}`,
          message: `could not be read for ${settings.etcdTimeoutMs / 1000} s (${err.causes.join('; ')}) and there is no last-good config in ${stateDir} to start on`,
          fix: 'bring etcd back, or set ETCD_ENDPOINTS to reachable etcd client URLs (BOOTSTRAP_ETCD_TIMEOUT waits longer); ETCD_USERNAME and ETCD_PASSWORD when etcd has authentication on',
        }],
        EXIT.unreachable,
      );
    }
    const { config, warnings } = validate(lastGood.text, env, {
      where: `last-good config ${lastGood.path} (etcd not readable)`,
      fix: 'bring etcd back so that bootstrap renders afresh, or correct the REGISTRY_* variables the config no longer passes with',
    });
    return { origin: 'last-good', text: lastGood.text, config, warnings, template, stateDir, lastGoodPath: lastGood.path, savedAt: lastGood.savedAt, failure: err };
  }
  const rendered = await renderConfig(template, snapshot, env);
  return { origin: 'etcd', ...rendered, template, stateDir, snapshot };
}

/** One line an SA can read in the log to know what is in force: auth, storage, and where they came from. */
export function summary(p: Plan): Record<string, unknown> {
  const auth = p.config.auth;
  return {
    origin: p.origin,
    auth: auth === undefined ? 'none (open registry)' : auth.type === 'token' ? `token, realm ${auth.realm}, service ${auth.service}` : auth.type,
    storage: p.config.storage.driver.type,
    keys: p.origin === 'etcd' ? Object.fromEntries(KEYS.map((key) => [key, p.snapshot.get(key)?.api ?? 'absent'])) : undefined,
  };
}
