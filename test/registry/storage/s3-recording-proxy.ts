// An HTTP proxy on 127.0.0.1 in front of s3rver that records every S3 request the driver makes. s3rver answers
// UploadPartCopy with 501, so the proxy carries that one call out itself with calls s3rver has (a ranged GetObject
// and an UploadPart into the same upload), which lets multipart copy run end to end on real stored bytes. It is the
// only stand-in in these tests, and it stands in for nothing but that one missing server call. A test may also set
// `fault` to make chosen requests fail as a struggling server or network would: a 5xx answer, a reset connection, or
// an answer that comes late.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from 'minio';

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. /bucket/key */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/**
 * A status answers with an S3 error of that status; 'reset' reads the request, then drops the connection unanswered;
 * `delayMs` holds the request that long, then forwards it.
 */
export type Fault = number | 'reset' | { delayMs: number } | undefined;

export interface RecordingProxy {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  /** Decides, for each request as it is recorded, whether it fails; undefined forwards every request. */
  fault: ((request: RecordedRequest) => Fault) | undefined;
  stop(): Promise<void>;
}

async function readBody(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Starts the proxy forwarding to `target` (http://127.0.0.1:PORT); `client` signs the calls that replace UploadPartCopy. */
export async function startRecordingProxy(target: string, client: Client): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const proxy = { fault: undefined as RecordingProxy['fault'] };

  async function copyPart(req: IncomingMessage, url: URL): Promise<string> {
    const source = decodeURIComponent(String(req.headers['x-amz-copy-source']));
    const [, bucket, ...key] = source.split('/');
    const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers['x-amz-copy-source-range']));
    if (!range) throw new Error(`copy source range missing: ${req.headers['x-amz-copy-source-range']}`);
    const first = Number(range[1]);
    const bytes = await readBody(await client.getPartialObject(bucket as string, key.join('/'), first, Number(range[2]) - first + 1));
    const [, destBucket, ...destKey] = url.pathname.split('/');
    const { etag } = await client.uploadPart(
      {
        bucketName: destBucket as string,
        objectName: decodeURIComponent(destKey.join('/')),
        uploadID: String(url.searchParams.get('uploadId')),
        partNumber: Number(url.searchParams.get('partNumber')),
        headers: {},
      },
      bytes,
    );
    return `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><ETag>"${etag}"</ETag></CopyPartResult>`;
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const recorded: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers };
    requests.push(recorded);
    const fault = proxy.fault?.(recorded);
    if (typeof fault === 'object') {
      req.pause();
      setTimeout(() => handle(req, res, url), fault.delayMs);
      return;
    }
    if (fault !== undefined) {
      req.resume();
      req.once('end', () => {
        if (fault === 'reset') req.socket.destroy();
        else res.writeHead(fault, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected ${fault}</Message></Error>`);
      });
      return;
    }
    handle(req, res, url);
  });

  function handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method === 'PUT' && url.searchParams.has('partNumber') && req.headers['x-amz-copy-source']) {
      req.resume();
      copyPart(req, url).then(
        (xml) => res.writeHead(200, { 'content-type': 'application/xml' }).end(xml),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(forward);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}
