// Which process holds the server end of a TCP connection on this machine: Linux's /proc tables, read the way ss -p
// does. Lets a test find the worker of `registry serve` that serves a given client connection.
import { readdir, readFile, readlink } from 'node:fs/promises';

/** The inode of the socket whose local port is localPort and remote port remotePort (IPv4 or IPv6 table). */
async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const rows = (await readFile(table, 'utf8').catch(() => '')).trim().split('\n').slice(1);
    for (const row of rows) {
      const fields = row.trim().split(/\s+/);
      const port = (address: string | undefined) => parseInt(address?.split(':').pop() ?? '', 16);
      if (port(fields[1]) === localPort && port(fields[2]) === remotePort) return fields[9];
    }
  }
  return undefined;
}

/** Of `pids`, the one holding the server's side of the connection from client port clientPort to serverPort. */
export async function connectionOwner(serverPort: number, clientPort: number, pids: number[]): Promise<number | undefined> {
  const inode = await socketInode(serverPort, clientPort);
  if (inode === undefined) return undefined;
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === `socket:[${inode}]`) return pid;
    }
  }
  return undefined;
}
