// Many clients at once, each a process of its own, as a fleet of nodes pulling one image or CI jobs pushing: one Node
// client in one process would be the limit long before a registry on several cores is. The clients are curl (C, the
// least CPU per byte) or, where curl is missing, Node processes (transfer-client.ts).
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { runTool, toolPath } from '../../test/helpers/tools.js';
import { mbPerSecond } from './stats.js';

export type ClientKind = 'curl' | 'node';

export type Transfer = { method: 'GET'; url: string } | { method: 'PUT'; url: string; file: string };

const nodeClient = fileURLToPath(new URL('./transfer-client.js', import.meta.url));

/** Runs one transfer in a new process; resolves with the HTTP status and the body bytes moved. */
async function transferIn(kind: ClientKind, transfer: Transfer): Promise<{ status: number; bytes: number }> {
  let out: string;
  if (kind === 'node') {
    out = await runTool(process.execPath, [nodeClient, transfer.method, transfer.url, ...(transfer.method === 'PUT' ? [transfer.file] : [])]);
  } else {
    const common = ['-sS', '-o', '/dev/null'];
    out =
      transfer.method === 'GET'
        ? await runTool(toolPath('curl'), [...common, '-w', '%{http_code} %{size_download}', transfer.url])
        : // -T streams the file; "Expect:" skips the 100-continue round trip both registries would answer anyway.
          await runTool(toolPath('curl'), [...common, '-w', '%{http_code} %{size_upload}', '-T', transfer.file, '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:', transfer.url]);
  }
  const [status, bytes] = out.trim().split(' ').map(Number);
  return { status: status ?? 0, bytes: bytes ?? 0 };
}

/** Starts every transfer at once, one process each; aggregate MB/s over the wall time until the last one ends. */
export async function fanOut(kind: ClientKind, transfers: Transfer[], expect: number): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(transfers.map((t) => transferIn(kind, t)));
  const elapsed = performance.now() - started;
  const wrong = results.filter((r) => r.status !== expect);
  if (wrong.length > 0) throw new Error(`fan-out: ${wrong.length} of ${results.length} transfers answered ${wrong.map((r) => r.status).join(', ')}, expected ${expect}`);
  return mbPerSecond(
    results.reduce((sum, r) => sum + r.bytes, 0),
    elapsed,
  );
}
