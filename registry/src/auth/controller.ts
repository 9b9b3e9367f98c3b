// The access-controller contract: turns a request's credentials into granted access, or a challenge.
// Implementations: silly.ts, htpasswd.ts, token.ts. Route handlers only declare what they need.

/** One resource and the actions a request needs on it, as in a token scope "repository:<name>:pull,push". */
export interface Access {
  type: 'repository' | 'registry';
  /** repository name, or "catalog" for registry:catalog:* */
  name: string;
  actions: string[];
}

export interface AuthRequest {
  /** The Authorization header, if any. */
  authorization?: string;
  /** The peer address of the socket. */
  remoteAddress?: string;
  /** scheme://host the client addressed, for challenges that point back at this host (auth.token.autoredirect). */
  origin?: string;
}

export interface Grant {
  /** The authenticated subject, for logs. */
  subject?: string;
}

/** Thrown when access is refused; the API renders it as 401 with the header as WWW-Authenticate. */
export class Challenge extends Error {
  constructor(
    /** Value of WWW-Authenticate. */
    readonly header: string,
    /** UNAUTHORIZED when credentials are missing or wrong, DENIED when they are good but not enough. */
    readonly code: 'UNAUTHORIZED' | 'DENIED',
    message: string,
  ) {
    super(message);
    this.name = 'Challenge';
  }
}

export interface AccessController {
  /**
   * Checks that the request may perform every access in `needed` (empty for GET /v2/).
   * Resolves with the grant, or throws a Challenge.
   */
  authorize(request: AuthRequest, needed: Access[]): Promise<Grant>;
}

/** Formats a scope the way distribution's challenges and token requests write it. */
export function formatScope(access: Access): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}
