/** distribution writes listen addresses as host:port, [v6]:port or :port. */
export function parseAddr(addr: string): { host?: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!match) throw new Error(`"${addr}" is not host:port or :port`);
  const host = match[1] ?? match[2];
  return { ...(host ? { host } : {}), port: Number(match[3]) };
}
