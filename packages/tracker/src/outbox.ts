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
 *
 * Each event has a key of its own, `<key>.<event id>`: the tabs of a site share localStorage, each
 * through a copy that learns of another tab's write a moment later, so a tab that wrote the whole
 * outbox back wrote over an event another tab had just stored, or brought back one it had sent.
 */
export function createOutbox(store: Store, key: string) {
  const prefix = `${key}.`;
  /**
   * Stored events, in the order they happened; one beaconed over a day ago, or not JSON, is deleted.
   * localStorage gives its keys in an order of its own (Chromium's follows no order of the ids), in
   * which the events a page left were sent by the next one. Within a millisecond (a page view and the
   * track() right after it) by `seq`, the order of the calls in their page load, then by id (the names
   * are sorted first, and the sort keeps their order for a tie), so the events of two page loads go in
   * one order whichever tab sends them. Those a tracker before `seq` stored have none (NaN, a tie).
   */
  const entries = (): Entry[] =>
    store
      .names(prefix)
      .sort()
      .flatMap((name) => {
        try {
          const event: Entry = JSON.parse(store.get(name) as string);
          if (!event.b || Date.now() - event.b < BEACON_RESEND_MS) return [event];
        } catch {}
        store.del(name);
        return [];
      })
      .sort((a, b) => a.ts - b.ts || a.c?.seq - b.c?.seq);
  const forget = (ids: string[]): void => {
    for (const id of ids) store.del(prefix + id);
  };
  const outbox = {
    unsent: (): WireEvent[] => entries().map(({ b: _, ...event }) => event),
    /**
     * Stores events, in place of those stored with the same ids; with `beaconed`, as handed to
     * sendBeacon, so they are sent again only for a day.
     */
    add(events: Entry[], beaconed?: boolean): void {
      // An event's own mark stays: one taken over from a tracker before this one's outbox.
      for (const event of events)
        store.set(prefix + event.id, JSON.stringify({ b: beaconed && Date.now(), ...event }));
      // A long time offline with a video playing is mostly heartbeats: a lost one costs seconds of
      // watch time, a lost page view or signup costs more. So heartbeats go first, oldest first (the
      // sort keeps the order of entries() within each).
      const excess = store.names(prefix).length - OUTBOX_LIMIT;
      if (excess > 0)
        forget(
          entries()
            .sort((a, b) => +(a.n !== 'heartbeat') - +(b.n !== 'heartbeat'))
            .slice(0, excess)
            .map((event) => event.id),
        );
    },
    forget,
    wipe(): void {
      for (const name of store.names(prefix)) store.del(name);
    },
  };
  // A tracker before this one kept the whole outbox under `key`.
  try {
    outbox.add(JSON.parse(store.get(key) as string));
  } catch {}
  store.del(key);
  return outbox;
}
