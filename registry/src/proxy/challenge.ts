// The WWW-Authenticate challenge of an upstream registry (RFC 7235): Bearer with the token service's realm, as Docker
// Hub and token-auth registries answer, or Basic.

export type Challenge =
  | { scheme: 'bearer'; realm: string; service?: string }
  | { scheme: 'basic' };

/** auth-param: token "=" ( token / quoted-string ), comma-separated. */
const PARAM = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;

function params(text: string): Map<string, string> {
  const found = new Map<string, string>();
  PARAM.lastIndex = 0;
  while (PARAM.lastIndex < text.length) {
    const match = PARAM.exec(text);
    if (match === null) break;
    found.set(match[1].toLowerCase(), match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? ''));
  }
  return found;
}

/** The first challenge this client can answer, or undefined (no header, an unknown scheme, a Bearer without realm). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(\S+)(?:\s+(.*))?$/s.exec(header);
  if (match === null) return undefined;
  const scheme = match[1].toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme !== 'bearer') return undefined;
  const found = params(match[2] ?? '');
  const realm = found.get('realm');
  if (!realm) return undefined;
  const service = found.get('service');
  return { scheme: 'bearer', realm, ...(service !== undefined && { service }) };
}
