// What the primary of `registry serve` and its workers say to each other over node:cluster's IPC channel. Every
// message has a type under "registry:", so messages of other libraries on the same channel (prom-client's) pass by.
import type { Config } from '../config/types.js';
import type { RelayMessage } from '../coord/relay.js';

/** What the primary asks every worker about itself, for the tree's /debug/health, /metrics and start-up log. */
export type Question = 'health' | 'metrics' | 'rss';

/** What the primary found for a worker's htpasswd login (auth/htpasswd.ts PasswordLogin). */
export type LoginAnswer =
  | { subject: string | null }
  /** Over a login limit (TooManyAttempts). */
  | { refused: string; retryAfter: number }
  /** The check itself failed. */
  | { failed: string };

export type ToWorker =
  /** The config the primary validated, so every worker (a replacement too) serves the same one. */
  | { type: 'registry:start'; config: Config; worker: number; group: string; runsJobs: boolean }
  | { type: 'registry:ask'; id: number; question: Question }
  | { type: 'registry:relay'; message: RelayMessage }
  | { type: 'registry:login-answer'; id: number; answer: LoginAnswer }
  /** Drain and exit 0 (what SIGTERM does to a process that serves alone). */
  | { type: 'registry:stop' };

export type FromWorker =
  /** The worker listens for messages: the primary may send its start. */
  | { type: 'registry:hello' }
  | { type: 'registry:ready'; url: string }
  /** The start failed; with `setting` (a SettingError), the message is printed alone, without a stack. */
  | { type: 'registry:failed'; message: string; setting?: string }
  | { type: 'registry:answer'; id: number; value: unknown }
  /** An htpasswd login to check: the primary holds the login limits of the whole tree. */
  | { type: 'registry:login'; id: number; username: string; password: string; address: string }
  | { type: 'registry:relay'; message: RelayMessage };

function isMessage(value: unknown): value is { type: string } {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('registry:');
}

export function isToWorker(value: unknown): value is ToWorker {
  return isMessage(value);
}

export function isFromWorker(value: unknown): value is FromWorker {
  return isMessage(value);
}
