// node dist/bench/lib/transfer-client.js GET URL | PUT URL FILE: one blob transfer by a Node client in a process of
// its own, the fan-out rows' client where curl is not installed. Prints "<status> <body bytes>" (bytes sent for PUT).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';

const [method, url, file] = process.argv.slice(2);
if ((method !== 'GET' && method !== 'PUT') || !url || (method === 'PUT' && !file)) throw new Error('usage: transfer-client.js GET URL | PUT URL FILE');

async function counted(res: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const chunk of res) bytes += (chunk as Buffer).length;
  return bytes;
}

const size = file === undefined ? 0 : (await stat(file)).size;
const req = request(url, {
  method,
  headers: method === 'PUT' ? { 'content-type': 'application/octet-stream', 'content-length': size } : {},
});
const response = new Promise<IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
if (file === undefined) req.end();
else await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), req);
const res = await response;
const received = await counted(res);
process.stdout.write(`${res.statusCode} ${method === 'PUT' ? size : received}\n`);
