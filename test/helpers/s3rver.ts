import { fileURLToPath } from 'node:url';
import { Client } from 'minio';
import { startProcess, type ManagedProcess } from './spawn.js';

/** s3rver 3.7.1: path-style S3 on 127.0.0.1, storing objects in the helper's temp dir. */
export interface S3Server {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  /** The bucket configured at startup. */
  readonly bucket: string;
  readonly pid: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
  createBucket(name: string): Promise<void>;
}

/** s3rver's CLI with its object writes made atomic (see the launcher). */
const launcher = fileURLToPath(new URL('./s3rver-launcher.js', import.meta.url));

// s3rver accepts only this key pair.
const key = 'S3RVER';
const listening = /S3rver listening on [\d.]+:(\d+)/;

/** A minio client for the server, path-style as s3rver requires. */
export function s3Client(s3: S3Server): Client {
  return new Client({
    endPoint: s3.host,
    port: s3.port,
    useSSL: false,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: s3.region,
    pathStyle: true,
  });
}

/**
 * Starts s3rver in a child process, by default on a port the kernel picks (it prints the port, so there is no race)
 * over a data dir its stop() removes; a test that restarts it where it was passes its own dataDir and the port.
 */
export async function startS3rver(opts: { bucket?: string; extraBuckets?: string[]; dataDir?: string; port?: number } = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? 'registry';
  const buckets = [bucket, ...(opts.extraBuckets ?? [])];
  const proc = await startProcess({
    name: 's3rver',
    command: process.execPath,
    // Every bucket name follows its own flag: s3rver reads the words after a name as bucket config files.
    // s3rver's continuation tokens use DES, which Node 20's OpenSSL refuses without the legacy provider: any listing
    // longer than one page would answer 500.
    args: ['--openssl-legacy-provider', launcher, '-d', opts.dataDir ?? 'data', '-a', '127.0.0.1', '-p', String(opts.port ?? 0), ...buckets.flatMap((b) => ['--configure-bucket', b])],
    ready: async (p) => listening.test(await p.readLog()),
  });
  const port = Number(listening.exec(await proc.readLog())?.[1]);
  const server: S3Server = {
    endpoint: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    accessKey: key,
    secretKey: key,
    region: 'us-east-1',
    bucket,
    pid: proc.pid,
    process: proc,
    stop: () => proc.stop(),
    createBucket: (name) => s3Client(server).makeBucket(name),
  };
  return server;
}
