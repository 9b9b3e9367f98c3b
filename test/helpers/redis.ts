// Debian's redis-server on 127.0.0.1, a random port, no persistence; stopped (and restartable) by PID.
import { Socket } from 'node:net';
import { freePort, withPortRetry } from './ports.js';
import { startProcess, type ManagedProcess } from './spawn.js';
import { toolPath } from './tools.js';

export interface RedisServer {
  /** host:port, as config.yml's redis.addr */
  readonly addr: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Starts it again on the same port (after stop()), empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Readiness: PING answered with PONG over a raw socket, so the helper needs no client library. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
  });
}

function launch(port: number): Promise<ManagedProcess> {
  return startProcess({
    name: 'redis',
    command: toolPath('redis-server'),
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
    ready: () => pong(port),
  });
}

export async function startRedis(): Promise<RedisServer> {
  let port = 0;
  let proc = await withPortRetry(async () => launch((port = await freePort())));
  return {
    addr: `127.0.0.1:${port}`,
    port,
    get process() {
      return proc;
    },
    async restart() {
      proc = await launch(port);
    },
    stop: () => proc.stop(),
  };
}
