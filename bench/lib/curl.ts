// Pulls by curl: a client in C that leaves more of the shared cores to the registry than a Node client does.
import { runTool, toolPath } from '../../test/helpers/tools.js';

export interface CurlResult {
  /** Bytes of body received, as curl counted them. */
  bytes: number;
  /** curl's own transfer speed (body bytes over its transfer time, without its process start-up). */
  mbPerSecond: number;
}

/** GETs `url`, discarding the body; throws unless the answer is 200. */
export async function curlGet(url: string): Promise<CurlResult> {
  const out = await runTool(toolPath('curl'), ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download}', url]);
  const [code, bytes, speed] = out.trim().split(' ').map(Number);
  if (code !== 200) throw new Error(`curl ${url}: HTTP ${code}`);
  return { bytes: bytes ?? 0, mbPerSecond: (speed ?? 0) / 1e6 };
}
