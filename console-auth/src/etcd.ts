// Reads a few etcd keys again and again (the console polls them): the v3 keyspace through one long-lived etcd3
// client, and for a key v3 does not hold, the v2 keyspace over HTTP (`GET /v2/keys/<key>`), which `etcdctl set`
// writes and LAIN's own tools read. bootstrap's reader fits a single read of its own two keys at start, with a
// client per read; this one keeps its client for the life of the console.
import { Etcd3 } from 'etcd3';
import { readServerVersion } from '../../bootstrap/src/etcd-v2.js';

export class EtcdUnreachable extends Error {
  constructor(
    readonly endpoints: readonly string[],
    readonly causes: string[],
  ) {
    super(`etcd unreachable at ${endpoints.join(', ')}: ${causes.join('; ')}`);
    this.name = 'EtcdUnreachable';
  }
}

export class EtcdKeyReader {
  private readonly client: Etcd3;

  constructor(
    private readonly endpoints: readonly string[],
    private readonly timeoutMs: number,
  ) {
    this.client = new Etcd3({
      hosts: [...endpoints],
      dialTimeout: timeoutMs,
      defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
    });
  }

  /** The value of each key that is set, v3 first; throws EtcdUnreachable when neither keyspace can be read. */
  async read(keys: readonly string[]): Promise<Map<string, string>> {
    const causes: string[] = [];
    const values = new Map<string, string>();
    let v3Answered = true;
    try {
      for (const key of keys) {
        const value = await this.client.get(key).string();
        if (value !== null) values.set(key, value);
      }
    } catch (err) {
      // All or nothing from v3, so a key is never taken from v2 while v3 holds another value for it. And v2's
      // "absent" stands for nothing while v3 could not be asked (authentication on, gRPC refused on the way, a value
      // too large), unless the server is an etcd 2, which has no v3 keyspace at all.
      values.clear();
      v3Answered = false;
      causes.push(`v3: ${(err as Error).message}`);
      if (!(await this.isEtcd2(causes))) throw new EtcdUnreachable(this.endpoints, causes);
    }
    for (const key of keys) {
      if (values.has(key)) continue;
      const v2 = await this.readV2(key, v3Answered, causes);
      if (v2 === undefined) throw new EtcdUnreachable(this.endpoints, causes);
      if (v2.value !== undefined) values.set(key, v2.value);
    }
    return values;
  }

  close(): void {
    this.client.close();
  }

  private async isEtcd2(causes: string[]): Promise<boolean> {
    for (const endpoint of this.endpoints) {
      try {
        const version = await readServerVersion(endpoint, undefined, undefined, this.timeoutMs);
        if (/^[0-2]\./.test(version)) return true;
        causes.push(`${endpoint} is etcd ${version}: its keys cannot be read from v2 alone`);
        return false;
      } catch (err) {
        causes.push(`v2 ${endpoint}: ${(err as Error).message}`);
      }
    }
    return false;
  }

  /**
   * `{ value }` (undefined when the key is absent), or undefined when no endpoint answered. `etcd` says the server
   * answered v3, so it is etcd.
   */
  private async readV2(key: string, etcd: boolean, causes: string[]): Promise<{ value: string | undefined } | undefined> {
    for (const endpoint of this.endpoints) {
      try {
        const res = await fetch(new URL(`/v2/keys${key}`, endpoint), { signal: AbortSignal.timeout(this.timeoutMs) });
        const body = await res.text();
        // A missing key is 404 {"errorCode":100}; an etcd without --enable-v2 answers a plain 404, which counts as
        // absent only from a server that answered v3: any other 404 (a proxy, a wrong port) must not read as
        // "no whitelist" and replace the keys last read.
        if (res.status === 404 && (etcd || /"errorCode":\s*100\b/.test(body))) return { value: undefined };
        if (res.status !== 200) throw new Error(`GET /v2/keys${key} answered ${res.status}: ${body.slice(0, 200)}`);
        const node = (JSON.parse(body) as { node?: { value?: string; dir?: boolean } }).node;
        return { value: node?.dir === true ? undefined : node?.value };
      } catch (err) {
        causes.push(`v2 ${endpoint}: ${(err as Error).message}`);
      }
    }
    return undefined;
  }
}
