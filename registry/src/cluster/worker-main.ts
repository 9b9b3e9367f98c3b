// The program node:cluster starts for each worker of `registry serve` (primary.ts forks it).
import { runWorker } from './worker.js';

runWorker().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`registry worker: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
