// The timing both sides of online collection agree on (docs/gc-online.md has the argument). Writers and collectors
// of every version must use the same values: a collector that waited less than a writer assumes would be unsafe.

/** A collector waits this long after registering before it marks; a writer whose guarded write took longer re-checks. */
export const GRACE_MS = 5_000;
/** A running collection rewrites its registration this often. */
export const RENEW_MS = 5_000;
/**
 * A registration not rewritten for this long (by the storage's clock) belongs to a dead collector: the next collector
 * removes it. A collector stops sweeping once it has not managed to renew for half of this.
 */
export const DEAD_AFTER_MS = 60_000;
/** Collection ids: <15-digit start time>-<coordinator id>. */
export const COLLECTION_ID = /^\d{15}-[A-Za-z0-9]+-\d+-[0-9a-f]{6}$/;
