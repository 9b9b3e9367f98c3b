// Builds the process's one pino logger from config.log; every module receives it (or a child) as a parameter.
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { LogConfig } from './config/types.js';

export type { Logger };

const LEVELS: Record<LogConfig['level'], LevelWithSilent> = {
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  fatal: 'fatal',
  panic: 'fatal',
};

/** Paths never written to a log, whatever a caller passes in. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  'token',
];

function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** distribution's "text" formatter writes logrus key=value lines; this turns pino's JSON lines into the same. */
export function logfmt(line: string): string {
  const { time, level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
  const pairs = Object.entries(rest).map(([key, value]) => `${key}=${logfmtValue(value)}`);
  return `time=${logfmtValue(time)} level=${logfmtValue(level)} msg=${logfmtValue(msg ?? '')}${pairs.length ? ` ${pairs.join(' ')}` : ''}\n`;
}

export function createLogger(config: Pick<LogConfig, 'level' | 'formatter' | 'fields'>, destination: NodeJS.WritableStream = process.stdout): Logger {
  const options = {
    level: LEVELS[config.level],
    base: { pid: process.pid, ...config.fields },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const stream: pino.DestinationStream =
    config.formatter === 'text' ? { write: (line: string) => destination.write(logfmt(line)) } : (destination as pino.DestinationStream);
  return pino(options, stream);
}
