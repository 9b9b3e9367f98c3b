// LAIN's address rules: a caller whose address is in /lain/config/registry_ip_whitelist or /lain/config/node_network
// gets everything it asks, without credentials (the cluster's own nodes pull and push that way). A trusted proxy's
// own address never qualifies: it speaks for other clients, and a request it forwards without naming the client
// must not inherit the proxy's standing.
import type { AddressList } from './address-list.js';
import type { LainSnapshot } from './lain-etcd.js';

export type AddressRule = 'whitelist' | 'node network';

export class AddressRules {
  constructor(
    private readonly lain: () => LainSnapshot,
    private readonly trustedProxies: AddressList,
  ) {}

  /** The rule the address matches, or undefined. */
  match(address: string): AddressRule | undefined {
    if (this.trustedProxies.has(address)) return undefined;
    const { whitelist, nodeNetwork } = this.lain();
    if (whitelist.has(address)) return 'whitelist';
    if (nodeNetwork.has(address)) return 'node network';
    return undefined;
  }
}
