// Waiting for an outcome that arrives on its own (a log line, a message, a process), with a deadline so a test that
// never sees it fails instead of hanging.
import { setTimeout as sleep } from 'node:timers/promises';

export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}
