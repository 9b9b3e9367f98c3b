// Listening on a configured address (http.addr, http.debug.addr), with a failure that says which address could not
// be taken, why, and which setting chooses another, instead of Node's trace.
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { SettingError } from './setting-error.js';

/** distribution writes listen addresses as host:port, [v6]:port or :port. */
export function parseAddr(addr: string): { host?: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!match) throw new Error(`"${addr}" is not host:port or :port`);
  const host = match[1] ?? match[2];
  return { ...(host ? { host } : {}), port: Number(match[3]) };
}

/** The config key an address comes from; its REGISTRY_* variable is named after it. */
export type AddressSetting = 'http.addr' | 'http.debug.addr';

function envName(setting: AddressSetting): string {
  return `REGISTRY_${setting.replaceAll('.', '_').toUpperCase()}`;
}

function reason(err: NodeJS.ErrnoException, host: string | undefined, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'the address is already in use (another process, or another registry, listens there)';
    case 'EACCES':
      return port < 1024
        ? `permission denied: port ${port} is below 1024, which needs root or CAP_NET_BIND_SERVICE`
        : 'permission denied by the operating system';
    case 'EADDRNOTAVAIL':
      return `${host ?? 'the host'} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host ?? ''} does not resolve`;
    case 'ERR_SOCKET_BAD_PORT':
      return `port ${port} is out of range (0-65535)`;
    default:
      return err.message;
  }
}

/** Listens on addr (the value of setting) and resolves with the bound address; SettingError when it cannot. */
export async function listenOn(server: Server, addr: string, setting: AddressSetting): Promise<AddressInfo> {
  const fail = (why: string, cause?: unknown): SettingError =>
    new SettingError(setting, `${setting} ${JSON.stringify(addr)}: cannot listen: ${why}; choose another address with ${setting} in the config file or ${envName(setting)}`, {
      cause,
    });
  let at: { host?: string; port: number };
  try {
    at = parseAddr(addr);
  } catch (err) {
    throw fail((err as Error).message);
  }
  try {
    const listening = once(server, 'listening');
    server.listen(at.port, at.host);
    await listening;
  } catch (err) {
    throw fail(reason(err as NodeJS.ErrnoException, at.host, at.port), err);
  }
  return server.address() as AddressInfo;
}

/** The base URL of a bound address: http://127.0.0.1:5000, https://[::1]:5000. */
export function urlOf(address: AddressInfo, scheme: 'http' | 'https'): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}
