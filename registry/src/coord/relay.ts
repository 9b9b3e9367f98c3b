// The workers of one machine pass bus messages through their primary process (cluster IPC) rather than each
// polling storage or holding Redis subscriptions of their own; this is the seam the process group plugs into.
/** Keys published on a topic, or word that messages may have been missed (every subscriber resets). */
export type RelayMessage = { kind: 'keys'; topic: string; keys: string[] } | { kind: 'reset' };

export interface Relay {
  /** Id shared by the processes of this machine's group: the storage bus skips the events the group wrote. */
  readonly group: string;
  /** Sends to every other process of the group. */
  send(message: RelayMessage): void;
  onMessage(handler: (message: RelayMessage) => void): void;
}
