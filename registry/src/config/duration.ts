// Go's time.Duration text form ("168h", "1h30m", "1.5s", "300ms"), which distribution's config uses, in milliseconds.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or undefined when the text is not a Go duration. Every number needs a unit, except a bare "0". */
export function parseDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < rest.length) {
    const match = TERM.exec(rest);
    if (match === null) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2]] ?? Number.NaN);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

const PARTS: Array<[string, number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** The shortest text parseDuration (and Go's time.ParseDuration) reads back as the same milliseconds, e.g. "168h". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let whole = Math.floor(Math.abs(ms));
  let out = '';
  for (const [unit, size] of PARTS) {
    const count = Math.floor(whole / size);
    if (count > 0) out += `${count}${unit}`;
    whole -= count * size;
  }
  const nanos = Math.round((Math.abs(ms) - Math.floor(Math.abs(ms))) * 1e6);
  if (nanos > 0) out += `${nanos}ns`;
  return sign + out;
}
