// auth.token: the registry trusts bearer JWTs signed by a token server whose certificate is in rootcertbundle, as
// distribution's registry/auth/token does. It accepts what both distribution 2.8 and 3.x accept (libtrust and RFC 7638
// kids, x5c chains, jwk headers, string or array audiences), and nothing either of them refuses.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SIGNING_ALGORITHMS } from '../config/auth.js';
import type { TokenAuth } from '../config/types.js';
import type { Logger } from '../log.js';
import { Challenge, formatScope, type Access, type AccessController, type AuthRequest, type Grant } from './controller.js';
import { loadTrustedKeys, spkiOf, verifyCertificateChain, type TrustedKeys } from './keys.js';

/** distribution 3's default auth.token.autoredirectpath. */
const AUTOREDIRECT_PATH = '/auth/token/';

/** distribution's token.Leeway: clock skew allowed on exp and nbf. */
const LEEWAY_SECONDS = 60;

type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const EC_ALGORITHM: Record<string, SigningAlgorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

interface TokenHeader {
  alg?: unknown;
  kid?: unknown;
  x5c?: unknown;
  jwk?: unknown;
}

/** The `access` claim: what the token server granted. */
interface ResourceActions {
  type: string;
  name: string;
  actions: string[];
}

function isResourceActions(value: unknown): value is ResourceActions {
  const v = value as Partial<ResourceActions> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.type === 'string' &&
    typeof v.name === 'string' &&
    Array.isArray(v.actions) &&
    v.actions.every((a) => typeof a === 'string')
  );
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** The scope parameter of a challenge: one scope per resource, actions merged, space-separated (RFC 6750 3). */
function scopeParam(needed: readonly Access[]): string {
  const merged = new Map<string, Access>();
  for (const access of needed) {
    const key = `${access.type}:${access.name}`;
    const seen = merged.get(key);
    if (seen === undefined) merged.set(key, { ...access, actions: [...new Set(access.actions)] });
    else seen.actions = [...new Set([...seen.actions, ...access.actions])];
  }
  return [...merged.values()].map(formatScope).join(' ');
}

function algorithmsForKey(key: KeyObject): SigningAlgorithm[] {
  if (key.asymmetricKeyType === 'rsa') return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  if (key.asymmetricKeyType === 'ec') {
    const alg = EC_ALGORITHM[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (alg !== undefined) return [alg];
  }
  return [];
}

function decodeSegment(segment: string, what: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw new Error(`malformed token: ${what} is not base64url`);
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`malformed token: ${what} is not JSON`);
  }
}

class TokenController implements AccessController {
  private readonly algorithms: ReadonlySet<string>;

  constructor(
    private readonly config: TokenAuth,
    private readonly trusted: TrustedKeys,
    private readonly logger: Logger,
  ) {
    this.algorithms = new Set(config.signingalgorithms ?? SIGNING_ALGORITHMS);
  }

  async authorize(request: AuthRequest, needed: Access[]): Promise<Grant> {
    const [scheme, raw] = splitAuthorization(request.authorization);
    if (scheme?.toLowerCase() !== 'bearer' || raw === '') {
      throw this.challenge(request, needed, undefined, 'authorization token required');
    }
    let claims: jwt.JwtPayload;
    try {
      claims = this.verify(raw);
    } catch (err) {
      // Whatever fails while checking a token (jsonwebtoken, node:crypto, our checks) refuses it: never a 500.
      if (!(err instanceof Error)) throw err;
      this.logger.info({ remoteAddress: request.remoteAddress, reason: err.message }, 'bearer token refused');
      throw this.challenge(request, needed, 'invalid_token', `invalid token: ${err.message}`);
    }
    const granted = grantedActions(claims.access);
    for (const access of needed) {
      const actions = granted.get(`${access.type}:${access.name}`);
      const missing = access.actions.filter((action) => !actions?.has('*') && !actions?.has(action));
      if (missing.length > 0) {
        throw this.challenge(request, needed, 'insufficient_scope', `token does not grant ${access.type}:${access.name}:${missing.join(',')}`);
      }
    }
    return typeof claims.sub === 'string' && claims.sub !== '' ? { subject: claims.sub } : {};
  }

  private verify(raw: string): jwt.JwtPayload {
    const parts = raw.split('.');
    if (parts.length !== 3) throw new Error('malformed token: not three dot-separated parts');
    const header = decodeSegment(parts[0]!, 'header') as TokenHeader | null;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('malformed token: header is not an object');
    const key = this.signingKey(header);
    const algorithms = algorithmsForKey(key).filter((alg) => this.algorithms.has(alg));
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg as SigningAlgorithm)) {
      throw new Error(`algorithm ${JSON.stringify(header.alg)} not accepted for this key (accepted: ${algorithms.join(', ') || 'none'})`);
    }
    const payload = jwt.verify(raw, key, {
      algorithms,
      issuer: this.config.issuer,
      audience: this.config.service,
      clockTolerance: LEEWAY_SECONDS,
    });
    if (typeof payload !== 'object') throw new Error('claims are not a JSON object');
    if (typeof payload.exp !== 'number') throw new Error('exp claim is required');
    if (payload.access !== undefined && payload.access !== null && !(Array.isArray(payload.access) && payload.access.every(isResourceActions))) {
      throw new Error('access claim is not a list of {type, name, actions}');
    }
    return payload;
  }

  /** The key the header names, tried in distribution's order: x5c, then jwk, then kid. Only trusted keys come out. */
  private signingKey(header: TokenHeader): KeyObject {
    if (header.x5c !== undefined) return verifyCertificateChain(header.x5c, this.trusted.roots, new Date());
    if (header.jwk !== undefined) return this.jwkKey(header.jwk);
    if (typeof header.kid === 'string' && header.kid !== '') {
      const key = this.trusted.byKid.get(header.kid);
      if (key === undefined) throw new Error(`signed by untrusted key with ID ${JSON.stringify(header.kid)}`);
      return key;
    }
    throw new Error('header names no signing key (x5c, jwk or kid)');
  }

  private jwkKey(jwk: unknown): KeyObject {
    if (typeof jwk !== 'object' || jwk === null) throw new Error('jwk header is not an object');
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const x5c = (jwk as { x5c?: unknown }).x5c;
    if (x5c !== undefined) {
      const leaf = verifyCertificateChain(x5c, this.trusted.roots, new Date());
      if (spkiOf(leaf) !== spkiOf(key)) throw new Error('jwk header key differs from its x5c leaf certificate');
      return key;
    }
    const trusted = this.trusted.bySpki.get(spkiOf(key));
    if (trusted === undefined) throw new Error('jwk header key is not in auth.token.rootcertbundle or auth.token.jwks');
    return trusted;
  }

  private challenge(request: AuthRequest, needed: readonly Access[], error: 'invalid_token' | 'insufficient_scope' | undefined, message: string): Challenge {
    // autoredirect (distribution 3): the token endpoint is on the host the client used, at /auth/token/.
    const realm = this.config.autoredirect && request.origin ? `${request.origin}${AUTOREDIRECT_PATH}` : this.config.realm;
    let header = `Bearer realm=${quote(realm)},service=${quote(this.config.service)}`;
    const scope = scopeParam(needed);
    if (scope !== '') header += `,scope=${quote(scope)}`;
    if (error !== undefined) header += `,error=${quote(error)}`;
    // distribution answers every token challenge, insufficient_scope included, with 401 UNAUTHORIZED: a client
    // treats 401 + Bearer as "fetch a token for this scope", which a 403 DENIED would stop.
    return new Challenge(header, 'UNAUTHORIZED', message);
  }
}

function splitAuthorization(authorization: string | undefined): [string | undefined, string] {
  if (authorization === undefined) return [undefined, ''];
  const space = authorization.indexOf(' ');
  if (space < 0) return [authorization, ''];
  return [authorization.slice(0, space), authorization.slice(space + 1).trim()];
}

function grantedActions(access: unknown): Map<string, Set<string>> {
  const granted = new Map<string, Set<string>>();
  if (!Array.isArray(access)) return granted;
  for (const entry of access as ResourceActions[]) {
    const key = `${entry.type}:${entry.name}`;
    const set = granted.get(key) ?? new Set<string>();
    for (const action of entry.actions) set.add(action);
    granted.set(key, set);
  }
  return granted;
}

/** Builds the controller for auth.token; a missing, unreadable or empty bundle throws naming the file and the key. */
export async function createTokenController(config: TokenAuth, logger: Logger): Promise<AccessController> {
  const trusted = await loadTrustedKeys(config.rootcertbundle, config.jwks);
  logger.info(
    { certificates: trusted.roots.length, keys: trusted.bySpki.size, issuer: config.issuer, service: config.service },
    'token auth: trusted signing keys loaded',
  );
  return new TokenController(config, trusted, logger);
}
