// Address lists as LAIN's SAs write them: single addresses, CIDRs and `first-last` ranges, IPv4 or IPv6. node:net's
// BlockList does the matching, so a range is compared as numbers (LAIN's console compared an address with a list of
// networks, and its ranges never matched anything).
import { BlockList, isIP } from 'node:net';

export interface AddressList {
  /** Whether the address (an IPv4-mapped IPv6 address counts as its IPv4 one) is in the list. */
  has(address: string): boolean;
  readonly size: number;
}

export interface ParsedAddressList {
  list: AddressList;
  /** One message per entry that is not an address, a CIDR or a range; such entries match nothing. */
  problems: string[];
}

type Family = 'ipv4' | 'ipv6';

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** The socket form of an IPv4 peer on a dual-stack listener is ::ffff:a.b.c.d; rules are written as a.b.c.d. */
export function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Adds one entry, or returns why it cannot be. */
function add(blocks: BlockList, entry: string): string | undefined {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const network = entry.slice(0, slash);
    const bits = entry.slice(slash + 1);
    const family = familyOf(network);
    const prefix = Number(bits);
    const max = family === 'ipv4' ? 32 : 128;
    if (family === undefined || !/^\d{1,3}$/.test(bits) || prefix > max) return `"${entry}" is not a CIDR such as 10.0.0.0/8`;
    blocks.addSubnet(network, prefix, family);
    return undefined;
  }
  const dash = entry.indexOf('-');
  if (dash >= 0) {
    const first = entry.slice(0, dash).trim();
    const last = entry.slice(dash + 1).trim();
    const family = familyOf(first);
    if (family === undefined || familyOf(last) !== family) return `"${entry}" is not a range of two addresses of one family such as 10.0.0.5-10.0.0.9`;
    try {
      blocks.addRange(first, last, family);
    } catch {
      return `"${entry}" is a range whose first address comes after its last`;
    }
    return undefined;
  }
  const family = familyOf(entry);
  if (family === undefined) return `"${entry}" is not an IP address, a CIDR or a range`;
  blocks.addAddress(entry, family);
  return undefined;
}

/** Parses entries (blank ones are skipped, so "a, b," is two entries). */
export function parseAddressList(entries: readonly string[]): ParsedAddressList {
  const blocks = new BlockList();
  const problems: string[] = [];
  let size = 0;
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const problem = add(blocks, entry);
    if (problem === undefined) size++;
    else problems.push(problem);
  }
  return {
    problems,
    list: {
      size,
      has(address) {
        const plain = unmapped(address);
        const family = familyOf(plain);
        return family !== undefined && blocks.check(plain, family);
      },
    },
  };
}

/** A list matching nothing. */
export const NO_ADDRESSES: AddressList = parseAddressList([]).list;

