// Config values the registry writes into response headers (auth realms and services, http.host, http.prefix,
// http.headers) and values it compares with token claims (auth.token.issuer). A character Node refuses in a header
// turns every response into a 500; one it sends but a client decodes differently breaks every login; a huge value is
// sent on every response. Such values are refused when the config is read.
import type { Origin } from './tree.js';
import type { Section } from './section.js';

/** The longest config value written into one response header or compared with a claim: far above any realm URL. */
export const MAX_HEADER_VALUE = 2048;

const NAMED: Record<string, string> = { '\n': 'a line feed', '\r': 'a carriage return', '\0': 'a NUL' };

function describeCharacter(ch: string): string {
  const code = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (ch === '\uFFFD') return `${code} (what bytes that are not valid UTF-8 are read as)`;
  const name = NAMED[ch] ?? (/\p{Cc}/u.test(ch) ? 'a control character' : JSON.stringify(ch));
  return `${name} (${code})`;
}

function lengthProblem(value: string, what = 'a value sent in a response header'): string | undefined {
  if (value.length <= MAX_HEADER_VALUE) return undefined;
  return `is ${value.length} characters long; ${what} may have at most ${MAX_HEADER_VALUE}`;
}

function found(match: RegExpExecArray | null, why: string): string | undefined {
  return match === null ? undefined : `contains ${describeCharacter(match[0])} at character ${match.index + 1}, ${why}`;
}

/** Why value cannot be a response header's value, or undefined: printable ASCII (and tab) only, bounded. */
export function headerValueProblem(value: string): string | undefined {
  // Node accepts Latin-1 too, but a client reads those bytes as (invalid) UTF-8: only ASCII means the same to both.
  return lengthProblem(value) ?? found(/[^\t\x20-\x7e]/u.exec(value), 'which a response header cannot carry (use printable ASCII: percent-encode a URL, punycode a host name)');
}

/** A value written inside a quoted parameter of a WWW-Authenticate challenge (realm, service). */
export function challengeParamProblem(value: string): string | undefined {
  return headerValueProblem(value) ?? found(/["\\]/.exec(value), 'which would end the quoted parameter of the WWW-Authenticate challenge');
}

/** A value compared with a token claim (issuer): any script, but no control character or undecodable byte. */
export function claimProblem(value: string): string | undefined {
  return lengthProblem(value, 'a value compared with a token claim') ?? found(/[\p{Cc}\uFFFD]/u.exec(value), 'which no token server writes in a claim');
}

/** Reports on s what `problemOf` finds in the value at key (an empty value is left to `required`); returns the value. */
export function checked(s: Section, key: string, value: string, problemOf: (value: string) => string | undefined, origin?: Origin): string {
  const problem = value === '' ? undefined : problemOf(value);
  if (problem !== undefined) s.error(key, problem, origin ?? s.originOf(key));
  return value;
}
