// One import for tests that start real servers; each server's helper lives in its own module.
export { startProcess, startNodeProcess, httpReady, makeTempDir, stopAll } from './spawn.js';
export type { ManagedProcess, Readiness, StartOptions, Exit } from './spawn.js';
export { startEtcd } from './etcd.js';
export type { Etcd } from './etcd.js';
export { startDistribution, distributionGarbageCollect, writeDistributionConfig } from './distribution.js';
export type { Distribution, DistributionOptions } from './distribution.js';
export { startS3rver, s3Client } from './s3rver.js';
export type { S3Server } from './s3rver.js';
export { freePort, withPortRetry } from './ports.js';
