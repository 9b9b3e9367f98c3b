// The HTTP transport the S3 driver hands to the minio client: it sends a request again when S3 answered it with a 5xx
// or its connection failed, and sending it again cannot do it twice. minio's own retry is no use here: it re-sends on a
// status code only, prints to the console, and, once it gives up (or when disabled), throws "Retryable HTTP status: 500"
// in place of the S3 error. So minio's retry stays off and this transport does the work below it: a signed request may
// be sent again as it is (S3 accepts a signature for 15 minutes), and a 5xx that is not retried becomes an error
// carrying the S3 error's code and message, as minio gives for any other status.
//
// Which requests are sent again:
// - A 5xx answer (InternalError, SlowDown, ServiceUnavailable): any request, since the server says it did not do it.
//   That includes CompleteMultipartUpload, which S3's documentation tells clients to retry on a 500.
// - No connection at all (ECONNREFUSED, a DNS failure): any request, since nothing was sent.
// - A connection that failed after the request went out (ECONNRESET, EPIPE, a timeout): only a request that does the
//   same thing twice. GET, HEAD, PUT and DELETE do; so does DeleteObjects (POST ?delete). CreateMultipartUpload sent
//   twice leaves one unused upload to the bucket's lifecycle rule, which is harmless. CompleteMultipartUpload is not
//   sent again, since a second try after a lost success answers NoSuchUpload; the upload's client retries it instead.
// - The driver sends buffers only, which are kept by reference until an answer. A streamed body is kept up to
//   RESEND_LIMIT bytes; a longer one is sent once.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import { MiB } from './buffer-budget.js';
import { s3ErrorIn } from './s3-store.js';

export interface RetryPolicy {
  /** Tries of one request in all, the first included. */
  attempts: number;
  /** The wait before the first re-send; each later one waits twice as long, plus up to as much again at random. */
  baseDelayMs: number;
}

/** As the AWS SDKs distribution uses: three retries, from 100 ms. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 100 };

const RESEND_LIMIT = 64 * MiB;
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** Whether a request (method, path with its query) that failed with `err` before any answer may be sent again. */
export function mayResend(err: unknown, method: string, path: string): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return false;
  if (NOT_CONNECTED.has(code)) return true;
  if (!CONNECTION_LOST.has(code)) return false;
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  if (method === 'POST') return /(^|&)(delete|uploads)(=|&|$)/.test(query);
  return ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method);
}

function retryDelayMs(policy: RetryPolicy, retry: number): number {
  const base = policy.baseDelayMs * 2 ** (retry - 1);
  return Math.round(base + Math.random() * base);
}

/** The S3 error of a 5xx answer, as minio makes it for the statuses it does not retry: code and message. */
async function serverError(res: IncomingMessage): Promise<Error> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  const failed = s3ErrorIn(Buffer.concat(chunks).toString('utf8'));
  const code = failed?.code ?? (res.statusCode === 503 ? 'SlowDown' : 'InternalError');
  const message = failed?.message ?? `HTTP ${res.statusCode}`;
  return Object.assign(new Error(message), { name: 'S3Error', code, statusCode: res.statusCode });
}

/**
 * One S3 request as minio sees it, a writable body: each try's request gets the body written so far, and the caller's
 * callback gets the first answer that is not to be retried. A try that fails before the whole body was handed over is
 * sent again once it has been.
 */
class ResendableRequest extends Writable {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private resendable = true;
  private current: ClientRequest;
  private attempt = 1;
  /** Why the current try failed before the body's end, to be sent again at the end. */
  private failedEarly: string | undefined;
  /** Set by _final: every byte of the body has been handed over. */
  private bodyEnded = false;
  /** Set once minio has an answer: what happens to its connection afterwards is for the answer's reader to see. */
  private answered = false;

  constructor(
    private readonly send: (options: RequestOptions) => ClientRequest,
    private readonly options: RequestOptions,
    private readonly onAnswer: (res: IncomingMessage) => void,
    private readonly policy: RetryPolicy,
    private readonly logger: Logger,
  ) {
    // Not destroyed at its finish: a try may fail after the body was handed over, and then it is sent again.
    super({ autoDestroy: false });
    this.current = this.start();
  }

  private start(): ClientRequest {
    const req = this.send(this.options);
    req.on('response', (res) => void this.onResponse(req, res));
    req.on('error', (err) => this.failed(req, err));
    return req;
  }

  private get method(): string {
    return this.options.method ?? 'GET';
  }

  private async onResponse(req: ClientRequest, res: IncomingMessage): Promise<void> {
    const status = res.statusCode ?? 0;
    if (req !== this.current || this.answered) {
      res.resume();
    } else if (status < 500 || status > 599) {
      this.answered = true;
      // The body is not sent again: let go of it, as the writer that owns a part's buffer expects.
      this.kept.length = 0;
      this.onAnswer(res);
    } else if (this.mayTryAgain()) {
      res.resume();
      this.tryAgain(`HTTP ${status}`);
    } else {
      this.answered = true;
      this.destroy(await serverError(res).catch((err: unknown) => err as Error));
    }
  }

  private failed(req: ClientRequest, err: Error): void {
    if (req !== this.current || this.destroyed || this.answered) return;
    if (this.mayTryAgain() && mayResend(err, this.method, this.options.path ?? '')) this.tryAgain((err as NodeJS.ErrnoException).code ?? err.message);
    else this.destroy(err);
  }

  private mayTryAgain(): boolean {
    return this.resendable && this.attempt < this.policy.attempts && this.failedEarly === undefined;
  }

  private tryAgain(cause: string): void {
    if (this.bodyEnded) void this.resend(cause);
    else this.failedEarly = cause;
  }

  private async resend(cause: string): Promise<void> {
    const delayMs = retryDelayMs(this.policy, this.attempt);
    this.logger.warn(
      { method: this.method, path: this.options.path, attempt: this.attempt, of: this.policy.attempts, cause, retryInMs: delayMs },
      'storage request failed; sending it again',
    );
    this.current.destroy();
    await sleep(delayMs);
    if (this.destroyed) return;
    this.attempt++;
    try {
      this.current = this.start();
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    for (const chunk of this.kept) this.current.write(chunk);
    this.current.end();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.resendable) {
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
      if (this.keptBytes > RESEND_LIMIT) {
        this.resendable = false;
        this.kept.length = 0;
      }
    }
    // A failed try reports through its 'error' event; the write only paces the body. A request destroyed before its
    // socket connected never calls back the writes it held, so its 'close' ends the wait too.
    const req = this.current;
    if (this.failedEarly !== undefined || req.destroyed || req.write(chunk)) {
      done();
      return;
    }
    const go = () => {
      req.off('drain', go);
      req.off('close', go);
      done();
    };
    req.on('drain', go);
    req.on('close', go);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.bodyEnded = true;
    const cause = this.failedEarly;
    if (cause === undefined) {
      this.current.end();
    } else if (this.resendable) {
      this.failedEarly = undefined;
      void this.resend(cause);
    } else {
      setImmediate(() => this.destroy(Object.assign(new Error(`storage request failed (${cause}) and its body was too long to send again`), { code: cause })));
    }
    done();
  }
}

/** The `transport` option of minio's Client: http or https requests that are sent again as described above. */
export function retryingTransport(secure: boolean, policy: RetryPolicy, logger: Logger): { request: typeof httpRequest } {
  const send = (options: RequestOptions) => (secure ? httpsRequest(options) : httpRequest(options));
  const request = (options: RequestOptions, onAnswer: (res: IncomingMessage) => void) =>
    new ResendableRequest(send, options, onAnswer, policy, logger) as unknown as ClientRequest;
  return { request: request as typeof httpRequest };
}
