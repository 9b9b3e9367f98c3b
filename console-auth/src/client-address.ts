// The caller's address. It is the socket's peer; X-Real-IP and X-Forwarded-For are headers anyone can write, so they
// count only when the peer is one of the configured trusted proxies (LAIN's console took X-Real-IP from anyone, and
// a forged header opened the registry).
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { unmapped, type AddressList } from './address-list.js';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The client behind a trusted proxy: X-Real-IP when the proxy set one, else the right-most X-Forwarded-For hop that
 * is not itself a trusted proxy (hops further left were written by whoever sent the request). Falls back to the
 * peer, which address rules never match since it is a trusted proxy.
 */
export function clientAddress(peer: string | undefined, headers: IncomingHttpHeaders, trustedProxies: AddressList): string {
  const socket = unmapped(peer ?? 'unknown');
  if (!trustedProxies.has(socket)) return socket;
  const realIp = header(headers, 'x-real-ip')?.trim();
  if (realIp !== undefined && isIP(realIp) !== 0) return unmapped(realIp);
  const hops = (header(headers, 'x-forwarded-for') ?? '').split(',').map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    if (!trustedProxies.has(hop)) return unmapped(hop);
  }
  return socket;
}
