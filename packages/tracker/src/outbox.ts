import type { Store } from './store.ts';
import type { WireEvent } from './types.ts';

/** Unsent events kept per browser; beyond this heartbeats go, then the oldest, so storage cannot fill up. */
export const OUTBOX_LIMIT = 500;
/**
 * How long a beaconed event is sent again. The collector drops a repeated event id only within its
 * dedup window (at least 24 hours), so a later copy of an event the beacon did deliver would count twice.
 */
export const BEACON_RESEND_MS = 24 * 60 * 60 * 1000;

/** A stored event; `b` is when it went out by sendBeacon, which says nothing of whether it arrived. */
type Entry = WireEvent & { b?: number };

/**
 * Events not known to have arrived, persisted so the next attempt, or the next page load, can send
 * them: those still waiting for their batch or in a request in flight, those that failed to send, and
 * those handed to sendBeacon, which the browser drops when the collector is down.
 */
export function createOutbox(store: Store, key: string) {
  const entries = (): Entry[] => {
    const now = Date.now();
    const due = (event: Entry | null): boolean => !!event && (!event.b || now - event.b < BEACON_RESEND_MS);
    try {
      const events: unknown = JSON.parse(store.get(key) ?? '[]');
      return Array.isArray(events) ? events.filter(due) : [];
    } catch {
      return [];
    }
  };
  const write = (events: Entry[]): void => {
    // A long time offline with a video playing is mostly heartbeats: a lost one costs seconds of
    // watch time, a lost page view or signup costs more.
    let excess = events.length - OUTBOX_LIMIT;
    const kept = events.filter((event) => !(excess > 0 && event.n === 'heartbeat' && excess--));
    if (kept.length) store.set(key, JSON.stringify(kept.slice(-OUTBOX_LIMIT)));
    else store.del(key);
  };
  const without = (ids: string[]): Entry[] => entries().filter((event) => !ids.includes(event.id));
  return {
    unsent: (): WireEvent[] => entries().map(({ b: _, ...event }) => event),
    /**
     * Stores events, in place of those stored with the same ids; with `beaconed`, as handed to
     * sendBeacon, so they are sent again only for a day.
     */
    add(events: WireEvent[], beaconed?: boolean): void {
      const b = beaconed ? Date.now() : undefined;
      write(
        without(events.map((event) => event.id)).concat(
          b ? events.map((event) => ({ ...event, b })) : events,
        ),
      );
    },
    forget(ids: string[]): void {
      write(without(ids));
    },
    wipe(): void {
      store.del(key);
    },
  };
}
