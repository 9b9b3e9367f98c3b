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

export function createLogger(config: Pick<LogConfig, 'level' | 'formatter' | 'fields'>, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: LEVELS[config.level],
    base: { pid: process.pid, ...config.fields },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // distribution's "text" formatter is logrus key=value; pino's JSON lines stay machine-readable either way, so
    // "text" only renames the level to its label.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
