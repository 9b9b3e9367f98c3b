// A stand-in hash for an account that does not exist. Checking a password against it costs what checking against a
// real account costs, so how long a refusal takes does not tell whether the account exists. bcrypt's time is set by
// the cost in the hash, so the decoy takes the cost the real hashes use.
import { randomBytes } from 'node:crypto';

const ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The cost hash-password and htpasswd -B use when not told otherwise. */
const DEFAULT_COST = 10;

/** The cost most of the hashes use (the higher one on a tie); DEFAULT_COST when there are none. */
function commonCost(hashes: Iterable<string>): number {
  const counts = new Map<number, number>();
  for (const hash of hashes) {
    const cost = Number(/^\$2[aby]\$(\d\d)\$/.exec(hash)?.[1]);
    if (Number.isInteger(cost)) counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = DEFAULT_COST;
  let most = 0;
  for (const [cost, count] of counts) {
    if (count > most || (count === most && cost > best)) [best, most] = [cost, count];
  }
  return best;
}

/** A well-formed bcrypt hash at the hashes' common cost whose salt and digest are random: no password matches it. */
export function decoyHash(hashes: Iterable<string>): string {
  const body = [...randomBytes(53)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
  return `$2b$${String(commonCost(hashes)).padStart(2, '0')}$${body}`;
}
