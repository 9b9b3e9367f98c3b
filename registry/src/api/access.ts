// Authorization and the read-only guard, the two checks every route runs before touching storage.
import type { Access } from '../auth/controller.js';
import { RegistryError } from '../errcode.js';
import type { Context, Services } from './context.js';
import { requestOrigin } from './urls.js';

export async function authorize(ctx: Context, services: Services, needed: Access[]): Promise<void> {
  if (!services.access) return;
  const grant = await services.access.authorize(
    {
      authorization: ctx.get('authorization') || undefined,
      remoteAddress: ctx.req.socket.remoteAddress,
      origin: requestOrigin(ctx),
    },
    needed,
  );
  ctx.state.subject = grant.subject;
}

export function repositoryAccess(name: string, ...actions: string[]): Access {
  return { type: 'repository', name, actions };
}

/** Refuses writes when storage.maintenance.readonly.enabled is set. */
export function writable(services: Services): void {
  if (services.config.storage.maintenance.readonly.enabled) {
    throw new RegistryError(
      'UNSUPPORTED',
      'the registry is in read-only mode for maintenance (storage.maintenance.readonly.enabled): pulls work, pushes and deletes are refused until it is turned off',
    );
  }
}

/** Refuses deletes unless storage.delete.enabled is set. */
export function deletable(services: Services): void {
  if (!services.config.storage.delete.enabled) {
    throw new RegistryError('UNSUPPORTED', 'deletes are disabled on this registry (storage.delete.enabled is false)');
  }
}
