// auth: absent (open registry) or exactly one of silly, htpasswd, token. Anything doubtful is an error, never a
// registry that starts open when it was meant to be closed.
import type { AuthConfig, TokenAuth } from './types.js';
import { bounded, type Section } from './section.js';
import { describeOrigin } from './tree.js';
import { joinNames } from './storage.js';
import { challengeParamProblem, checked, claimProblem } from './header-value.js';

const AUTH_TYPES = ['silly', 'htpasswd', 'token'] as const;

/**
 * The signature algorithms the token verifier checks: distribution 3's defaults minus HMAC (a shared secret, which the
 * registry never has: accepting HS* is how public keys get used as secrets) and EdDSA (jsonwebtoken cannot verify it).
 */
export const SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/** Why an algorithm distribution knows is refused here, so the message says what to do instead. */
function refusal(algorithm: string): string {
  if (/^HS(256|384|512)$/.test(algorithm)) return `${algorithm} is an HMAC (shared-secret) algorithm; the registry verifies public-key signatures only`;
  if (algorithm === 'EdDSA') return 'EdDSA cannot be verified by this registry';
  return `${bounded(algorithm)} is not a JWS algorithm`;
}

/** A required value the challenge sends back to every client: WWW-Authenticate's realm or service. */
function challengeParam(s: Section, key: string): string {
  return checked(s, key, s.required(key), challengeParamProblem);
}

function readToken(s: Section): TokenAuth {
  const token: TokenAuth = {
    type: 'token',
    realm: challengeParam(s, 'realm'),
    service: challengeParam(s, 'service'),
    issuer: checked(s, 'issuer', s.required('issuer'), claimProblem),
    rootcertbundle: s.required('rootcertbundle'),
    autoredirect: s.boolean('autoredirect', false),
  };
  s.unsupported('autoredirectpath', 'the realm is /auth/token/ on the request host');
  const jwks = s.string('jwks');
  if (jwks !== undefined && jwks !== '') token.jwks = jwks;
  const algorithms = s.stringList('signingalgorithms');
  if (algorithms !== undefined) {
    const refused = algorithms.filter((a) => !(SIGNING_ALGORITHMS as readonly string[]).includes(a));
    if (algorithms.length === 0) {
      const all = SIGNING_ALGORITHMS.join(', ');
      s.error('signingalgorithms', `lists no algorithm, so no token could ever be verified (list some of ${all}, or remove the key to accept them all)`, s.originOf('signingalgorithms'));
    } else if (refused.length > 0) {
      s.error('signingalgorithms', `${refused.map(refusal).join('; ')} (use some of ${SIGNING_ALGORITHMS.join(', ')})`, s.originOf('signingalgorithms'));
    }
    token.signingalgorithms = algorithms;
  }
  return token;
}

function readAuthSection(s: Section): AuthConfig | undefined {
  const types = s.keys();
  if (types.length === 0) return undefined;
  if (types.length > 1) {
    const origins = types.map((name) => {
      const origin = s.originOf(name);
      return origin === undefined ? name : `${name}: ${describeOrigin(origin)}`;
    });
    s.error(undefined, `at most one type may be configured, found ${joinNames(types)} [${origins.join('; ')}]`);
    return undefined;
  }
  const [type] = types;
  switch (type) {
    case 'silly':
      return s.section(type, (a) => ({ type, realm: challengeParam(a, 'realm'), service: challengeParam(a, 'service') }));
    case 'htpasswd':
      return s.section(type, (a) => ({ type, realm: challengeParam(a, 'realm'), path: a.required('path') }));
    case 'token':
      return s.section(type, readToken);
    default:
      s.error(type, `not supported by this registry (use one of ${AUTH_TYPES.join(', ')}, or no auth section)`, s.originOf(type));
      return undefined;
  }
}

export function readAuth(top: Section): AuthConfig | undefined {
  return top.section('auth', readAuthSection, { shorthand: true });
}
