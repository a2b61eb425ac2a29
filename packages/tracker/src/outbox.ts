import type { Store } from './store.ts';
import type { WireEvent } from './types.ts';

/** Unsent events kept per browser; beyond this the oldest go, so storage cannot fill up. */
export const OUTBOX_LIMIT = 500;

/** Events that failed to send, persisted so the next attempt, or the next page load, can retry them. */
export function createOutbox(store: Store, key: string) {
  const read = (): WireEvent[] => {
    try {
      const events: unknown = JSON.parse(store.get(key) ?? '[]');
      return Array.isArray(events) ? events : [];
    } catch {
      return [];
    }
  };
  const write = (events: WireEvent[]): void => {
    if (events.length) store.set(key, JSON.stringify(events.slice(-OUTBOX_LIMIT)));
    else store.del(key);
  };
  return {
    read,
    add(events: WireEvent[]): void {
      write(read().concat(events));
    },
    remove(ids: string[]): void {
      write(read().filter((event) => !ids.includes(event.id)));
    },
    clear(): void {
      store.del(key);
    },
  };
}
