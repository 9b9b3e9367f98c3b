// A blob GET that a test holds mid-response: the client takes the first bytes and then stops reading, so the server
// is provably still sending when the test signals or kills it; finish() reads the rest.
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';

export interface HeldPull {
  /** The client's port: with the server's, it names the connection (socket-owner.ts). */
  localPort: number;
  /** Reads the rest of the body; resolves with what arrived, rejects when the connection was cut first. */
  finish(): Promise<{ status: number; bytes: number; digest: string }>;
}

/** GETs url on a connection of its own and holds the response after its first chunk. */
export function heldPull(url: string): Promise<HeldPull> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false });
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const hash = createHash('sha256');
      let bytes = 0;
      const count = (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      };
      res.once('data', (chunk: Buffer) => {
        count(chunk);
        res.pause();
        resolve({
          localPort: req.socket?.localPort ?? 0,
          finish: () =>
            new Promise((done, cut) => {
              res.on('data', count);
              res.once('end', () => done({ status: res.statusCode ?? 0, bytes, digest: `sha256:${hash.digest('hex')}` }));
              res.once('aborted', () => cut(new Error('response aborted')));
              res.once('error', cut);
              req.once('error', cut);
              res.resume();
            }),
        });
      });
    });
    req.end();
  });
}
