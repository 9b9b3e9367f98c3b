// What this machine allows, measured in the same run as the registries: a registry cannot push faster than it can
// hash and write, nor pull faster than it can read and send over loopback.
import { createHash, randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mbPerSecond } from './stats.js';

export interface Ceilings extends MachineCeilings {
  /** The fan-out clients against a server that only moves bytes (client-ceiling.ts), aggregate MB/s, when measured. */
  clientPush?: number;
  clientPull?: number;
}

/** What the machine allows, measured alone. */
export interface MachineCeilings {
  /** sha256 in node:crypto, one core, MB/s */
  sha256: number;
  /** write of a file in the work dir including fdatasync, MB/s */
  diskWrite: number;
  /** read of that file just written (from the page cache, as the registries read blobs just pushed), MB/s */
  diskRead: number;
  /** one TCP connection over 127.0.0.1 between two sockets of one node process, MB/s */
  loopback: number;
}

const CHUNK = 1024 * 1024;

function hashSpeed(bytes: number, block: Buffer): number {
  const hash = createHash('sha256');
  const started = performance.now();
  for (let done = 0; done < bytes; done += CHUNK) hash.update(block.subarray(done % block.length, (done % block.length) + CHUNK));
  hash.digest();
  return mbPerSecond(bytes, performance.now() - started);
}

async function diskSpeeds(dir: string, bytes: number, block: Buffer): Promise<{ write: number; read: number }> {
  const path = join(dir, 'ceiling.bin');
  try {
    const writer = await open(path, 'w');
    const writeStarted = performance.now();
    for (let done = 0; done < bytes; done += CHUNK) await writer.write(block, done % block.length, CHUNK);
    await writer.datasync();
    const write = mbPerSecond(bytes, performance.now() - writeStarted);
    await writer.close();
    const reader = await open(path, 'r');
    const into = Buffer.allocUnsafe(CHUNK);
    const readStarted = performance.now();
    let total = 0;
    for (;;) {
      const { bytesRead } = await reader.read(into, 0, CHUNK, null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    const read = mbPerSecond(total, performance.now() - readStarted);
    await reader.close();
    return { write, read };
  } finally {
    await rm(path, { force: true });
  }
}

async function loopbackSpeed(bytes: number, block: Buffer): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const received = new Promise<number>((resolve) => {
      server.once('connection', (socket) => {
        let total = 0;
        socket.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total >= bytes) resolve(performance.now());
        });
      });
    });
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const started = performance.now();
    for (let sent = 0; sent < bytes; sent += CHUNK) {
      const slice = block.subarray(sent % block.length, (sent % block.length) + CHUNK);
      if (!socket.write(slice)) await new Promise<void>((resolve) => socket.once('drain', resolve));
    }
    const ended = await received;
    socket.destroy();
    return mbPerSecond(bytes, ended - started);
  } finally {
    server.close();
  }
}

const TRIES = 3;

/**
 * `bytes` is the transfer size of each measurement (the benchmark's big blob size). A ceiling is what the machine can
 * do, so each is the best of a few tries: other work on a shared machine only ever lowers a figure.
 */
export async function measureCeilings(dir: string, bytes: number): Promise<MachineCeilings> {
  const block = randomBytes(64 * CHUNK);
  const best: MachineCeilings = { sha256: 0, diskWrite: 0, diskRead: 0, loopback: 0 };
  for (let i = 0; i < TRIES; i++) {
    const disk = await diskSpeeds(dir, bytes, block);
    const now: MachineCeilings = {
      sha256: hashSpeed(bytes, block),
      diskWrite: disk.write,
      diskRead: disk.read,
      loopback: await loopbackSpeed(Math.max(bytes, 1024 * CHUNK), block),
    };
    for (const key of Object.keys(best) as (keyof MachineCeilings)[]) best[key] = Math.max(best[key], now[key]);
  }
  return best;
}
