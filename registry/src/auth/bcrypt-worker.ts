// The thread side of bcrypt-pool.ts: one comparison per message, answered in the order asked. bcryptjs's sync
// compare blocks this thread only, which is what the thread is for.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export interface CompareJob {
  password: string;
  hash: string;
}

export type CompareAnswer = { ok: boolean } | { error: string };

const port = parentPort;
if (port === null) throw new Error('bcrypt-worker.js runs as a worker thread of bcrypt-pool.js');

port.on('message', ({ password, hash }: CompareJob) => {
  let answer: CompareAnswer;
  try {
    answer = { ok: bcrypt.compareSync(password, hash) };
  } catch (err) {
    answer = { error: (err as Error).message };
  }
  port.postMessage(answer);
});
