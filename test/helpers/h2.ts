// One request on an HTTP/2 session (node:http2), for the tests of the API over h2.
import { constants, type ClientHttp2Session } from 'node:http2';
import { Readable } from 'node:stream';

export interface H2Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Body chunks are written one by one, as a streaming client sends them. */
export function h2(session: ClientHttp2Session, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer[]): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: method, [constants.HTTP2_HEADER_PATH]: path, ...headers });
    let responseHeaders: H2Response['headers'] = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(responseHeaders[constants.HTTP2_HEADER_STATUS]), headers: responseHeaders, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body) Readable.from(body).pipe(stream);
    else stream.end();
  });
}
