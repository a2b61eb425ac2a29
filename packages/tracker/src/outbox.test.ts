import { describe, expect, it, vi } from 'vitest';
import { BEACON_RESEND_MS, createOutbox, OUTBOX_LIMIT } from './outbox.ts';
import { createStore } from './store.ts';
import type { WireEvent } from './types.ts';

// Numbered as a page load numbers its events, in the order they are made.
let seq = 0;
const event = (id: string): WireEvent => ({
  id,
  t: 'track',
  n: 'x',
  ts: 1,
  a: 'anon',
  s: 'session',
  url: 'https://example.com/',
  c: { sw: 1, sh: 1, lang: 'en', library: 'inlet.js', seq: seq++ },
});

describe('createOutbox', () => {
  it('keeps only the newest events beyond the limit', () => {
    const outbox = createOutbox(createStore(null), 'q.wk');
    outbox.add(Array.from({ length: OUTBOX_LIMIT + 20 }, (_, i) => event(`e${i}`)));
    const kept = outbox.unsent();
    expect(kept).toHaveLength(OUTBOX_LIMIT);
    expect(kept[0]?.id).toBe('e20');
  });

  it('gives the events in the order they happened, not in the order of their keys', () => {
    // The next page load sent what a page left in the order localStorage gave their keys in.
    const outbox = createOutbox(createStore(null), 'q.wk');
    outbox.add([
      { ...event('a'), ts: 3 },
      { ...event('b'), ts: 1 },
      { ...event('c'), ts: 2 },
    ]);
    expect(outbox.unsent().map((e) => e.id)).toEqual(['b', 'c', 'a']);
  });

  it('gives the events of one millisecond in the order they were called in, and those of two page loads in one order', () => {
    // A page view and the track() right after it share a millisecond; they went in either order.
    // Without nth, stored without a seq (JSON leaves undefined out).
    const at = (id: string, ts: number, nth?: number): WireEvent => ({
      ...event(id),
      ts,
      c: { ...event(id).c, seq: nth as number },
    });
    // Two page loads' events of one millisecond, and after them two a tracker before seq stored.
    const stored = [at('b9', 1, 2), at('c1', 1, 0), at('a5', 1, 1), at('d0', 1, 1), at('f3', 2), at('e2', 2)];
    for (const order of [stored, [...stored].reverse()]) {
      const store = createStore(null);
      // Stored by a page load before this one and read back as JSON, as the next page load reads them.
      createOutbox(store, 'q.wk').add(order);
      expect(
        createOutbox(store, 'q.wk')
          .unsent()
          .map((e) => e.id),
      ).toEqual(['c1', 'a5', 'd0', 'b9', 'e2', 'f3']);
    }
  });

  it('removes delivered events by id and tolerates corrupt storage', () => {
    const store = createStore(null);
    const outbox = createOutbox(store, 'q.wk');
    outbox.add([event('a'), event('b'), event('c')]);
    outbox.forget(['a', 'c']);
    expect(outbox.unsent().map((e) => e.id)).toEqual(['b']);
    store.set('q.wk.b', '{not json');
    expect(outbox.unsent()).toEqual([]);
    expect(store.get('q.wk.b')).toBeUndefined();
  });

  it('stores each event under a key of its own, so one outbox writing cannot write over what another stored', () => {
    // Tabs of a site share localStorage; a tab that wrote the whole outbox back from its copy wrote over
    // an event another tab had just stored.
    const store = createStore(null);
    const tab = createOutbox(store, 'q.wk');
    const other = createOutbox(store, 'q.wk');
    tab.add([event('a')]);
    other.add([event('b')]);
    expect(store.get('q.wk.a')).toBeDefined();
    expect(store.get('q.wk.b')).toBeDefined();
    other.forget(['b']);
    expect(tab.unsent().map((e) => e.id)).toEqual(['a']);
    tab.wipe();
    expect(store.names('q.wk')).toEqual([]);
  });

  it('takes over the outbox a tracker before this one stored under one key, beacon marks and all', () => {
    const store = createStore(null);
    const now = Date.now();
    store.set('q.wk', JSON.stringify([event('a'), { ...event('b'), b: now - BEACON_RESEND_MS }]));
    const outbox = createOutbox(store, 'q.wk');
    expect(store.get('q.wk')).toBeUndefined();
    // b went out by beacon over a day ago, and is not sent again.
    expect(outbox.unsent().map((e) => e.id)).toEqual(['a']);
  });

  it('drops heartbeats before other events beyond the limit, so hours offline keep the page views', () => {
    const outbox = createOutbox(createStore(null), 'q.wk');
    const beat = (id: string): WireEvent => ({
      ...event(id),
      n: 'heartbeat',
      p: { kind: 'media', interval: 15 },
    });
    outbox.add([event('signup')]);
    for (let i = 0; i < OUTBOX_LIMIT + 100; i++) outbox.add([beat(`beat${i}`)]);
    outbox.add([event('page')]);
    const kept = outbox.unsent().map((e) => e.id);
    expect(kept).toHaveLength(OUTBOX_LIMIT);
    expect(kept[0]).toBe('signup');
    expect(kept.at(-2)).toBe(`beat${OUTBOX_LIMIT + 99}`);
    expect(kept.at(-1)).toBe('page');
  });

  it('stores an event again in place of its stored copy, so a beacon marks an event stored when tracked', () => {
    const outbox = createOutbox(createStore(null), 'q.wk');
    outbox.add([event('a'), event('b')]);
    outbox.add([event('a')], true);
    const now = Date.now();
    const later = vi.spyOn(Date, 'now').mockReturnValue(now + BEACON_RESEND_MS);
    // Past a day the beaconed copy is dropped, and no unmarked one is left to send again.
    expect(outbox.unsent().map((e) => e.id)).toEqual(['b']);
    later.mockRestore();
  });
});
