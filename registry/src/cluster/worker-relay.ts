// A worker's end of the machine's bus: what its coordinator publishes goes to the primary, which passes it to every
// other worker (primary.ts); what the others publish arrives the same way. One hop over a local pipe, so the workers
// of a machine see each other's invalidations at once, whichever coordination backend serves the fleet.
import type { Relay, RelayMessage } from '../coord/relay.js';
import { isToWorker } from './messages.js';

export class WorkerRelay implements Relay {
  constructor(readonly group: string) {}

  send(message: RelayMessage): void {
    // A worker whose primary is gone is about to exit; there is nobody left to tell.
    if (process.connected) process.send?.({ type: 'registry:relay', message });
  }

  onMessage(handler: (message: RelayMessage) => void): void {
    process.on('message', (value: unknown) => {
      if (isToWorker(value) && value.type === 'registry:relay') handler(value.message);
    });
  }
}
