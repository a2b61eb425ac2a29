import { createOutbox } from './outbox.ts';
import type { Store } from './store.ts';
import type { WireEvent } from './types.ts';
import { warn } from './warn.ts';

const BATCH_EVENTS = 20;
const BATCH_MS = 1000;
/** sendBeacon and keepalive fetch refuse bodies over 64 KiB, so batches stay under it. */
const MAX_BODY = 60_000;
const MAX_EVENTS = 500;
/** The longest wait before a retry, however many failed before it. */
export const MAX_BACKOFF_MS = 5 * 60_000;

export interface SenderOptions {
  /** `{api}/collect` */
  collectUrl: string;
  writeKey: string;
  kv: Store;
  /** First retry delay; doubles on each failure. Default 1 s. */
  retryBaseMs?: number;
  /** True once the visitor opted out, maybe in another tab: what is buffered then is not sent. */
  blocked?: () => boolean;
}

/** UTF-8 size: the browser limits are in bytes, and a Japanese title is three bytes a character. */
const byteLength = (text: string): number => new Blob([text]).size;

/** Splits events into request-sized batches. */
function split(events: WireEvent[]): WireEvent[][] {
  const batches: WireEvent[][] = [];
  let batch: WireEvent[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = byteLength(JSON.stringify(event)) + 1;
    if (batch.length && (size + bytes > MAX_BODY || batch.length >= MAX_EVENTS)) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(event);
    size += bytes;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** Batches events, posts them, and keeps what fails in the outbox for retries with backoff. */
export function createSender(options: SenderOptions) {
  const { collectUrl: endpoint, writeKey } = options;
  const base = options.retryBaseMs ?? 1000;
  const outbox = createOutbox(options.kv, `q.${writeKey}`);
  let buffer: WireEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let retrying = false;
  let redirectWarned = false;
  /**
   * Ids of events this page still holds, buffered or in a request in flight, which a retry leaves to
   * this page's flush or that request.
   */
  const held = new Set<string>();
  const pending = (): WireEvent[] => outbox.unsent().filter((event) => !held.has(event.id));

  /** None of `events` once the visitor opted out, maybe in another tab, which deleted what this one stored. */
  const unblocked = (events: WireEvent[]): WireEvent[] => (options.blocked?.() ? [] : events);

  const body = (events: WireEvent[]): string => JSON.stringify({ k: writeKey, sa: Date.now(), e: events });

  /** True when the server took the events, or refused them in a way a retry cannot fix. */
  const post = async (events: WireEvent[]): Promise<boolean> => {
    const text = body(events);
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        body: text,
        keepalive: byteLength(text) < MAX_BODY,
        // A string body goes as text/plain;charset=UTF-8, which keeps the request "simple", so browsers
        // skip the CORS preflight: no Content-Type to set.
        // A 301 or 302 turns the POST into a GET without the events, whose answer would be taken
        // for the collector's; a redirect is not followed, and the events stay for a retry.
        redirect: 'manual',
      });
      if (res.type === 'opaqueredirect') {
        if (!redirectWarned)
          warn(`${endpoint} redirects, so events are kept; set data-api to where it redirects`);
        redirectWarned = true;
        return false;
      }
      if (res.ok || res.status >= 500 || res.status === 408 || res.status === 429) return res.ok;
      // A collector with a lower limits.request_bytes refused the whole batch, which was dropped; halves
      // go until they fit, and an event alone too large is refused as such.
      const half = events.length >> 1;
      return res.status === 413 && half
        ? (await post(events.slice(0, half))) && post(events.slice(half))
        : refused(events, res);
    } catch {
      return false;
    }
  };

  /**
   * A refusal a retry cannot fix, said in the console. A collector that kept the batch's other events
   * says so (`accepted`); an older one refused them all, so when it names one event's properties or
   * the event as a whole (`e[2].p`, `[2]`: nested too deep, too large), the others are sent without it.
   * Other fields, such as a user id, are the same in every event: each would be refused in turn.
   */
  const refused = async (events: WireEvent[], res: Response): Promise<boolean> => {
    const { error }: { error?: { message?: string; field?: string; accepted?: number } } = await res
      .json()
      .catch(() => ({}));
    const at = /^e?\[(\d+)\](\.p)?$/.exec(error?.field ?? '')?.[1];
    // A batch of one is named by its event: "refused 1 events" said less, in broken English.
    const bad = events[+(at ?? (events.length > 1 && events.length))];
    warn(
      `the collector refused ${bad ? `event "${bad.n ?? bad.t}"` : `${events.length} events`}: ${error?.message ?? res.status}`,
    );
    // The collector kept the batch's other events (it says how many): nothing to send again.
    if (error?.accepted) return true;
    const rest = events.filter((event) => event !== bad);
    return !bad || !rest.length || post(rest);
  };

  const schedule = (delay?: number): void => {
    if (delay === undefined) {
      if (retryTimer) return;
      delay = Math.min(base * 2 ** failures++, MAX_BACKOFF_MS) * (0.5 + Math.random() / 2);
    }
    clearTimeout(retryTimer);
    retryTimer = setTimeout(retry, delay);
  };

  const retry = async (): Promise<void> => {
    // clearTimeout() gives undefined: the timer cleared and forgotten in one statement, for the bytes.
    retryTimer = clearTimeout(retryTimer) as undefined;
    if (retrying) return;
    retrying = true;
    let ok = true;
    // Events stay in the outbox until the server has them, so a page closed mid-request loses nothing.
    for (const batch of split(pending())) {
      ok = await post(batch);
      if (!ok) break;
      failures = 0;
      outbox.forget(batch.map((event) => event.id));
    }
    retrying = false;
    // Events that failed while this loop ran were stored but not scheduled.
    if (!ok || pending().length) schedule();
  };

  const send = async (events: WireEvent[]): Promise<void> => {
    // Marked before the request as a beacon's are: a page closed while it is in flight is not there to
    // store its events when it fails, so the next page load sends them again, for a day, as the event
    // ids make a repeat of a request that did arrive harmless.
    const ids = events.map((event) => event.id);
    outbox.add(events, true);
    for (const id of ids) held.add(id);
    const ok = await post(events);
    // Not one wipe() dropped meanwhile, nor any once optOut() in another tab deleted what this one
    // stored: stored again, an event of a visitor who opted out while its request was in flight was
    // sent by the retry after it.
    const kept = events.filter((event) => held.delete(event.id));
    if (ok) {
      outbox.forget(ids);
      failures = 0;
      if (pending().length) schedule(0);
    } else {
      outbox.add(unblocked(kept));
      schedule();
    }
  };

  const flush = (beacon?: boolean): void => {
    flushTimer = clearTimeout(flushTimer) as undefined;
    // optOut() in another tab deleted the events this tab stored, not its buffer.
    const events = unblocked(buffer);
    buffer = [];
    for (const batch of split(events)) {
      // Without sendBeacon (Firefox with beacon.enabled off, some privacy extensions), a keepalive
      // fetch outlives the page as well.
      if (!beacon || !navigator.sendBeacon) void send(batch);
      // The page may be gone before a fetch settles, so what the beacon cannot take is stored now;
      // offline, sendBeacon would accept the data and then drop it. A beacon the collector never got is
      // lost without a trace, so the next page load sends it again; this page, shown again, does not:
      // its events stay held, or every later send's retry repeated them. What the beacon did not take
      // is left to retries, which send it when the browser comes back online. A string goes as
      // text/plain;charset=UTF-8, as a fetch's body does.
      else {
        const sent = navigator.onLine && navigator.sendBeacon(endpoint, body(batch));
        outbox.add(batch, sent);
        if (!sent) for (const event of batch) held.delete(event.id);
      }
    }
  };

  // Nothing is held yet: what is pending is what another page load left.
  if (pending().length) schedule(base);

  return {
    add(event: WireEvent): void {
      // Stored at once, as a request's events are: a tab torn down without its pagehide (closed while
      // its renderer is busy, killed in the background by a mobile OS, crashed) never flushes its
      // buffer, and the next page load sends these instead. This page's retries leave them to its flush.
      // Storing throws for properties that are not JSON (a cycle, a BigInt), which would throw when the
      // batch is sent, in a timer, and take its other events along: this event alone is left out.
      try {
        outbox.add([event]);
      } catch (error) {
        warn(`event "${event.n ?? event.t}" not sent: the properties are not JSON (${error})`);
        return;
      }
      buffer.push(event);
      held.add(event.id);
      if (buffer.length >= BATCH_EVENTS) flush();
      else flushTimer ??= setTimeout(flush, BATCH_MS);
    },
    /** Sends what is buffered; with `beacon`, through sendBeacon because the page is going away. */
    flush,
    /** Retries the outbox now, e.g. when the browser comes back online. */
    resend: retry,
    /** Drops buffered and stored events (opt-out). */
    wipe(): void {
      buffer = [];
      held.clear();
      outbox.wipe();
    },
  };
}

export type Sender = ReturnType<typeof createSender>;
