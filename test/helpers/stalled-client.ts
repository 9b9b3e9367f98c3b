// A client that stops mid-request, over a bare socket: it sends a head (and some of a body, if any) and then
// nothing, as a hung pusher or a slowloris attacker does.
import { connect, type Socket } from 'node:net';

export interface StalledClient {
  socket: Socket;
  /** Everything the server sent before it closed the connection. */
  closed: Promise<string>;
  /** Sends more bytes on the connection. */
  send(data: string | Buffer): void;
}

/** Connects to url and sends `head` (CRLF line endings, as given) and `body`, then stays silent until told. */
export async function stalledClient(url: string, head: string, body: Buffer = Buffer.alloc(0)): Promise<StalledClient> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<string>((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(received).toString('latin1')));
  });
  socket.write(head, 'latin1');
  if (body.length > 0) socket.write(body);
  return { socket, closed, send: (data) => socket.write(data) };
}

/** The head of a PATCH announcing `announced` bytes of chunk for an upload path. */
export function patchHead(url: string, path: string, announced: number): string {
  return `PATCH ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${announced}\r\n\r\n`;
}
