// auth: silly — distribution's development controller: any Authorization header is accepted, none is challenged.
import type { SillyAuth } from '../config/types.js';
import { Challenge, formatScope, type AccessController } from './controller.js';

export function createSillyController(config: SillyAuth): AccessController {
  return {
    async authorize(request, needed) {
      if (request.authorization) return {};
      const scope = needed.map(formatScope).join(' ');
      const header = `Bearer realm="${config.realm}",service="${config.service}"${scope ? `,scope="${scope}"` : ''}`;
      throw new Challenge(header, 'UNAUTHORIZED', 'authentication required');
    },
  };
}
