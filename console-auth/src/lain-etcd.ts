// What a LAIN cluster's SAs keep in etcd for the console: the registry whitelist, the node network, the SSO server
// and the main domain. Polled, so `etcdctl set` takes effect within one interval without a restart; a value that
// does not parse is logged with the key and the command to fix it, and the rest still applies. When etcd cannot be
// read the last values read stay in force (before the first read: none, so nothing is opened).
import type { Logger } from '../../registry/src/log.js';
import { NO_ADDRESSES, parseAddressList, type AddressList } from './address-list.js';
import { EtcdKeyReader, EtcdUnreachable } from './etcd.js';

const LAIN_KEYS = {
  whitelist: '/lain/config/registry_ip_whitelist',
  nodeNetwork: '/lain/config/node_network',
  console: '/lain/config/auth/console',
  domain: '/lain/config/domain',
} as const;

const KEYS = Object.values(LAIN_KEYS);

export interface EtcdSettings {
  endpoints: string[];
  /** Milliseconds between reads. */
  pollMs: number;
  /** Milliseconds one read may take. */
  timeoutMs: number;
}

export interface LainSnapshot {
  /** The whitelist's entries. */
  whitelist: AddressList;
  nodeNetwork: AddressList;
  /** The SSO server named by /lain/config/auth/console, or why there is none. */
  sso: { url: string } | { problem: string };
  domain?: string;
}

const CONSOLE_EXAMPLE = `etcdctl set ${LAIN_KEYS.console} '{"type":"lain-sso","url":"http://sso.<domain>"}'`;

function ssoOf(value: string | undefined): LainSnapshot['sso'] {
  if (value === undefined) return { problem: `etcd key ${LAIN_KEYS.console} is not set (set it: ${CONSOLE_EXAMPLE})` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { problem: `etcd key ${LAIN_KEYS.console} is not JSON (fix it: ${CONSOLE_EXAMPLE})` };
  }
  const { type, url } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { type?: unknown; url?: unknown };
  if (type !== 'lain-sso') return { problem: `etcd key ${LAIN_KEYS.console} has type ${JSON.stringify(type)}, not "lain-sso": SSO is off in this cluster` };
  if (typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)) {
    return { problem: `etcd key ${LAIN_KEYS.console} has no http(s) "url" (fix it: ${CONSOLE_EXAMPLE})` };
  }
  return { url: url.replace(/\/+$/, '') };
}

export class LainEtcd {
  private snapshot: LainSnapshot;
  private last: Map<string, string> | undefined;
  private unreachable = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly reader: EtcdKeyReader,
    private readonly settings: EtcdSettings,
    private readonly logger: Logger,
  ) {
    this.snapshot = {
      whitelist: NO_ADDRESSES,
      nodeNetwork: NO_ADDRESSES,
      sso: { problem: `etcd key ${LAIN_KEYS.console} has not been read yet: etcd at ${settings.endpoints.join(', ')} has not answered` },
    };
  }

  /** Reads once (a failure is logged, not thrown) and keeps polling until stop(). */
  static async start(settings: EtcdSettings, logger: Logger): Promise<LainEtcd> {
    const watch = new LainEtcd(new EtcdKeyReader(settings.endpoints, settings.timeoutMs), settings, logger.child({ component: 'lain-etcd' }));
    await watch.refresh();
    watch.schedule();
    return watch;
  }

  get current(): LainSnapshot {
    return this.snapshot;
  }

  /** Reads the keys now. */
  async refresh(): Promise<void> {
    let values: Map<string, string>;
    try {
      values = await this.reader.read(KEYS);
    } catch (err) {
      if (!(err instanceof EtcdUnreachable)) throw err;
      if (!this.unreachable) this.logger.warn({ causes: err.causes }, `etcd unreachable: keeping the LAIN keys last read (${this.last === undefined ? 'none yet' : 'whitelist, node network, SSO'})`);
      this.unreachable = true;
      return;
    }
    if (this.unreachable) this.logger.info('etcd answers again');
    this.unreachable = false;
    if (this.last !== undefined && KEYS.every((key) => this.last?.get(key) === values.get(key))) return;
    this.last = values;
    this.snapshot = this.parse(values);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.reader.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.refresh().then(
        () => this.schedule(),
        (err: unknown) => {
          this.logger.error({ err }, 'reading the LAIN keys failed');
          this.schedule();
        },
      );
    }, this.settings.pollMs);
    // Polling alone must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  private parse(values: Map<string, string>): LainSnapshot {
    const whitelistValue = values.get(LAIN_KEYS.whitelist) ?? '';
    const whitelist = parseAddressList(whitelistValue.split(','));
    for (const problem of whitelist.problems) {
      this.logger.warn({ key: LAIN_KEYS.whitelist }, `${LAIN_KEYS.whitelist}: ${problem}; that entry is ignored (fix it: etcdctl set ${LAIN_KEYS.whitelist} '<ip>,<cidr>,<first-last>')`);
    }
    const nodeValue = values.get(LAIN_KEYS.nodeNetwork)?.trim() ?? '';
    let nodeNetwork = NO_ADDRESSES;
    if (nodeValue !== '') {
      const parsed = parseAddressList([nodeValue]);
      if (!nodeValue.includes('/') || parsed.problems.length > 0) {
        this.logger.warn({ key: LAIN_KEYS.nodeNetwork }, `${LAIN_KEYS.nodeNetwork}: "${nodeValue}" is not one CIDR such as 192.168.77.0/24; no node network applies (fix it: etcdctl set ${LAIN_KEYS.nodeNetwork} '<cidr>')`);
      } else {
        nodeNetwork = parsed.list;
      }
    }
    const sso = ssoOf(values.get(LAIN_KEYS.console));
    const domain = values.get(LAIN_KEYS.domain)?.trim() || undefined;
    this.logger.info(
      { whitelist: whitelist.list.size, nodeNetwork: nodeNetwork.size > 0 ? nodeValue : null, sso: 'url' in sso ? sso.url : sso.problem, domain: domain ?? null },
      'LAIN keys read from etcd',
    );
    return { whitelist: whitelist.list, nodeNetwork, sso, ...(domain !== undefined && { domain }) };
  }
}
