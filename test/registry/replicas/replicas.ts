// Two replicas as docs/deployment.md sets them up: `registry serve` processes sharing one storage (a directory or a
// bucket), one http.secret and, when given, one Redis.
import { join } from 'node:path';
import { startRegistryProcess, type RegistryProcess } from '../../helpers/registry-serve.js';

export interface ReplicaSetup {
  /** 'filesystem' (a directory under dir) or a storage driver section such as s3Storage() gives. */
  storage: 'filesystem' | Record<string, unknown>;
  blobdescriptor: 'inmemory' | 'redis';
  /** host:port of the Redis every replica uses. */
  redis?: string;
  debug?: boolean;
}

export const SECRET = 'one-secret-for-every-replica';

/** The storage section both replicas (and `registry garbage-collect`) run with. */
export function sharedStorage(dir: string, setup: ReplicaSetup): Record<string, unknown> {
  const driver = setup.storage === 'filesystem' ? { filesystem: { rootdirectory: join(dir, 'data') } } : setup.storage;
  return {
    ...driver,
    delete: { enabled: true },
    cache: { blobdescriptor: setup.blobdescriptor },
    maintenance: { uploadpurging: { enabled: false } },
  };
}

/** One more replica of the setup, its config at dir/<name>.yml. */
export function startReplica(dir: string, name: string, setup: ReplicaSetup): Promise<RegistryProcess> {
  return startRegistryProcess(dir, name, {
    storage: sharedStorage(dir, setup),
    secret: SECRET,
    ...(setup.redis !== undefined && { sections: { redis: { addr: setup.redis } } }),
    ...(setup.debug !== undefined && { debug: setup.debug }),
  });
}

/** Replicas a and b, started one after the other (their configs are dir/replica-a.yml and dir/replica-b.yml). */
export async function startReplicas(dir: string, setup: ReplicaSetup): Promise<RegistryProcess[]> {
  const a = await startReplica(dir, 'replica-a', setup);
  try {
    return [a, await startReplica(dir, 'replica-b', setup)];
  } catch (err) {
    await a.proc.stop();
    throw err;
  }
}
