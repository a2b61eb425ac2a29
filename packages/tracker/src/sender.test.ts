import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest';
import { BEACON_RESEND_MS } from './outbox.ts';
import { createSender, MAX_BACKOFF_MS } from './sender.ts';
import { createStore, type StorageLike, type Store } from './store.ts';
import type { WireBatch, WireEvent } from './types.ts';

// The sender against a real HTTP server; the browser-only parts (navigator.onLine, sendBeacon)
// are given in the shape browsers have, and the whole tracker runs in Chromium in packages/server/test.

interface Received {
  contentType: string | undefined;
  batch: WireBatch;
  /** Date.now() when the server had the whole request. */
  at: number;
}

let server: Server;
let endpoint: string;
let received: Received[] = [];
/** Status codes to answer with, in order; 204 once they run out. */
let statuses: number[] = [];
/** The status each request in `received` was answered with. */
let answered: number[] = [];
/** Error bodies for the refusals in `statuses`, in order; a generic one once they run out. */
let errors: string[] = [];
/** While set, requests get no answer (a slow network); their responses wait in `held`. */
let holding = false;
const held: ServerResponse[] = [];

// Numbered as a page load numbers its events, in the order they are made.
let seq = 0;
const event = (id: string): WireEvent => ({
  id,
  t: 'track',
  n: 'clicked',
  ts: Date.now(),
  a: 'anon-1',
  s: 'session-1',
  url: 'https://docs.example.com/',
  c: { sw: 1280, sh: 800, lang: 'en-US', library: 'inlet.js', seq: seq++ },
});

/** localStorage in memory: its keys are its own properties, which store.names() lists, as localStorage's are. */
const memoryStore = (): Store => {
  const items: Record<string, string> = {};
  const methods: StorageLike = {
    getItem: (key) => items[key] ?? null,
    setItem: (key, value) => {
      items[key] = value;
    },
    removeItem: (key) => void delete items[key],
  };
  for (const [name, value] of Object.entries(methods)) Object.defineProperty(items, name, { value });
  return createStore(items as unknown as StorageLike);
};

/** Ids of the events the sender's outbox holds, each under a key of its own. */
const storedIds = (store: Store): string[] =>
  store.names('q.wk_test.').map((name) => name.slice('q.wk_test.'.length));

/** Ids the server answered 2xx for, in order. */
const delivered = (): string[] =>
  received.filter((_, i) => (answered[i] ?? 204) < 300).flatMap((r) => r.batch.e.map((e) => e.id));

/** The real setTimeout, to poll with while the sender's timers are fake. */
const realSetTimeout = globalThis.setTimeout;

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => realSetTimeout(resolve, 10));
  }
};

/** Every fetch of the test: a retry calls it as its timer fires, before any answer. */
let requests: MockInstance<typeof fetch>;

/**
 * Makes the sender's timers fake (its retries and its batch timer; requests, answers and Date stay
 * real) and returns the fetch calls it makes, so that no further retry can be checked past the
 * longest backoff without waiting on a clock and on Math.random.
 */
const fakeTimers = () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  return requests;
};

/** Waits for check, moving the fake clock on a second at a time so the retries before it are sent. */
const untilRetried = (check: () => boolean): Promise<void> =>
  until(() => {
    if (check()) return true;
    void vi.advanceTimersByTimeAsync(1000);
    return false;
  });

/** Moves the fake clock past the longest backoff there is: a retry still to come has been sent. */
const pastEveryBackoff = () => vi.advanceTimersByTimeAsync(MAX_BACKOFF_MS);

const navigatorLike = { onLine: true, sendBeacon: vi.fn<(url: string, data: string) => boolean>() };

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (holding) {
        held.push(response);
        return;
      }
      const status = statuses.shift() ?? 204;
      received.push({
        contentType: request.headers['content-type'],
        batch: JSON.parse(body),
        at: Date.now(),
      });
      answered.push(status);
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(status === 204 ? undefined : (errors.shift() ?? '{"error":{"code":"X","message":"x"}}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/collect`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  answered = [];
  statuses = [];
  errors = [];
  holding = false;
  navigatorLike.onLine = true;
  // A real beacon is a POST the page does not wait for; this one is too.
  navigatorLike.sendBeacon.mockReset().mockImplementation((url, data) => {
    void fetch(url, { method: 'POST', body: data });
    return true;
  });
  vi.stubGlobal('navigator', navigatorLike);
  requests = vi.spyOn(globalThis, 'fetch');
});

afterEach(async () => {
  vi.useRealTimers();
  for (const response of held.splice(0)) response.destroy();
  // A sender whose request was held schedules its retry once that request fails: on a real timer
  // here, where it fired in a later test's fake clock and sent its event there.
  await Promise.allSettled(requests.mock.results.map((result) => result.value));
  await new Promise((resolve) => realSetTimeout(resolve, 0));
  requests.mockRestore();
  vi.unstubAllGlobals();
});

describe('createSender', () => {
  it('sends 20 events as one text/plain batch at once, with key and sentAt', async () => {
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: memoryStore() });
    for (let i = 0; i < 20; i++) sender.add(event(`e${i}`));
    await until(() => received.length === 1);
    const [first] = received;
    expect(first?.contentType).toBe('text/plain;charset=UTF-8');
    expect(first?.batch.k).toBe('wk_test');
    expect(Math.abs((first?.batch.sa ?? 0) - Date.now())).toBeLessThan(2000);
    expect(first?.batch.e.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`));
  });

  it('sends fewer events after about a second, together', async () => {
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: memoryStore() });
    const start = Date.now();
    sender.add(event('a'));
    sender.add(event('b'));
    await until(() => received.length === 1);
    // When the server had it, not when this test looked: a look 500 ms on found it sent already on a
    // busy machine, whose timers fired late, and a late look let a batch sent at once pass as sent late.
    expect((received[0]?.at ?? 0) - start).toBeGreaterThanOrEqual(900);
    expect(received[0]?.batch.e.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('retries 503 and 429 with backoff until the server takes the events, and then stops', async () => {
    statuses = [503, 429, 503];
    const fetched = fakeTimers();
    const store = memoryStore();
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    sender.add(event('a'));
    sender.flush();
    // The outbox is empty once the sender has the 204.
    await untilRetried(() => delivered().length === 1 && !storedIds(store).length);
    await pastEveryBackoff();
    expect(fetched).toHaveBeenCalledTimes(4);
    expect(answered).toEqual([503, 429, 503, 204]);
    expect(delivered()).toEqual(['a']);
    expect(storedIds(store)).toEqual([]);
  });

  it('drops a batch the server refuses with a 400: a retry cannot fix it', async () => {
    statuses = [400];
    const fetched = fakeTimers();
    const store = memoryStore();
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    sender.add(event('bad'));
    sender.flush();
    // The event is in the outbox while its request is in flight, and gone once the sender has the 400.
    await until(() => received.length === 1 && !storedIds(store).length);
    await pastEveryBackoff();
    expect(fetched).toHaveBeenCalledTimes(1);
    expect(received).toHaveLength(1);
    expect(storedIds(store)).toEqual([]);
  });

  it("sends nothing again when a 400 says the batch's other events were accepted", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    statuses = [400];
    errors = [
      JSON.stringify({
        error: {
          code: 'INVALID_FIELD',
          message: 'e[1].p: nests objects too deep',
          field: 'e[1].p',
          accepted: 2,
          refused: 1,
        },
      }),
    ];
    const fetched = fakeTimers();
    const store = memoryStore();
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    for (const id of ['page', 'deep', 'after']) sender.add(event(id));
    sender.flush();
    await until(() => received.length === 1 && !storedIds(store).length);
    await pastEveryBackoff();
    expect(fetched).toHaveBeenCalledTimes(1);
    expect(received).toHaveLength(1);
    expect(storedIds(store)).toEqual([]);
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
      'inlet: the collector refused event "clicked": e[1].p: nests objects too deep',
    ]);
    warn.mockRestore();
  });

  it('sends the rest of a batch again without the one event a 400 names, saying why in the console', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const refusal = (field: string, message: string) =>
      JSON.stringify({ error: { code: 'INVALID_FIELD', message: `${field}: ${message}`, field } });
    // What the collector answers for properties nested too deep, and for an event over limits.event_bytes.
    statuses = [400, 400, 204, 400];
    errors = [
      refusal('e[1].p', 'nests objects too deep'),
      refusal('[1]', 'is too large'),
      // A field every event shares: sending them one fewer at a time would be refused each time.
      refusal('e[0].u', 'is longer than 200 characters'),
    ];
    const fetched = fakeTimers();
    const store = memoryStore();
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    for (const id of ['page', 'deep', 'huge', 'after']) sender.add(event(id));
    sender.flush();
    await until(() => delivered().length === 2 && !storedIds(store).length);
    for (const id of ['long-user-1', 'long-user-2']) sender.add(event(id));
    sender.flush();
    await until(() => received.length === 4 && !storedIds(store).length);
    await pastEveryBackoff();
    expect(fetched).toHaveBeenCalledTimes(4);
    expect(received.map((r) => r.batch.e.map((e) => e.id))).toEqual([
      ['page', 'deep', 'huge', 'after'],
      ['page', 'huge', 'after'],
      ['page', 'after'],
      ['long-user-1', 'long-user-2'],
    ]);
    expect(storedIds(store)).toEqual([]);
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
      'inlet: the collector refused event "clicked": e[1].p: nests objects too deep',
      'inlet: the collector refused event "clicked": [1]: is too large',
      'inlet: the collector refused 2 events: e[0].u: is longer than 200 characters',
    ]);
    warn.mockRestore();
  });

  it('keeps events from a failed send for the next page load, which delivers them once', async () => {
    const fetched = fakeTimers();
    const store = memoryStore();
    const down = createSender({
      collectUrl: 'http://127.0.0.1:1/collect',
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    down.add(event('a'));
    down.add(event('b'));
    down.flush();
    await until(() => storedIds(store).length > 0);

    createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    await untilRetried(() => delivered().length === 2 && !storedIds(store).length);
    await pastEveryBackoff();
    // The first page's retry, past its minute, finds nothing left to send.
    expect(fetched.mock.calls.filter(([url]) => url === endpoint)).toHaveLength(1);
    expect(delivered().sort()).toEqual(['a', 'b']);
    expect(storedIds(store)).toEqual([]);
  });

  it('keeps the events of a request in flight, so a page closed before the answer loses none', async () => {
    // A fetch that fails once its page is gone (a slow network, a collector restarting) has no page
    // left to store its events: they were lost, as only a failure the page saw stored them.
    holding = true;
    const store = memoryStore();
    const leaving = createSender({
      collectUrl: endpoint,
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    leaving.add(event('a'));
    leaving.flush();
    await until(() => held.length === 1);
    expect(storedIds(store)).toEqual(['a']);

    // The page is gone; the next page load sends them, once.
    holding = false;
    createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    await until(() => delivered().length === 1);
    await until(() => !storedIds(store).length);
    expect(delivered()).toEqual(['a']);
  });

  it('does not send again events a request of the same page still has in flight', async () => {
    const fetched = fakeTimers();
    const store = memoryStore();
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    holding = true;
    sender.add(event('slow'));
    sender.flush();
    await until(() => held.length === 1);
    holding = false;
    // A delivery that succeeds sends what the outbox holds; the slow request's event is not for it.
    sender.add(event('fast'));
    sender.flush();
    // Once the sender has the 204, the outbox holds the slow request's event alone.
    await until(() => delivered().length === 1 && storedIds(store).join() === 'slow');
    await pastEveryBackoff();
    expect(fetched).toHaveBeenCalledTimes(2);
    expect(delivered()).toEqual(['fast']);
    for (const response of held.splice(0)) response.writeHead(204).end();
    await until(() => !storedIds(store).length);
    expect(delivered()).toEqual(['fast']);
  });

  it('keeps a buffered event for the next page load when its page dies before sending it, which sends it once', async () => {
    // A tab torn down without its pagehide (closed while busy, killed in the background, crashed) never
    // sends its buffer: the events waiting for their batch were lost.
    fakeTimers();
    const store = memoryStore();
    const dying = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 60_000 });
    dying.add(event('last'));

    const next = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 60_000 });
    next.add(event('own'));
    // The next page's retry sends the dead page's event, and leaves its own buffered one to its flush.
    await next.resend();
    expect(delivered()).toEqual(['last']);
    next.flush();
    await until(() => delivered().length === 2 && !storedIds(store).length);
    expect(delivered()).toEqual(['last', 'own']);
  });

  it('stores events instead of beaconing them while offline, and resend() on the online event sends them', async () => {
    navigatorLike.onLine = false;
    const store = memoryStore();
    const sender = createSender({
      collectUrl: endpoint,
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    sender.add(event('a'));
    sender.add(event('b'));
    sender.flush(true);
    expect(navigatorLike.sendBeacon).not.toHaveBeenCalled();
    expect(storedIds(store)).toHaveLength(2);

    navigatorLike.onLine = true;
    await sender.resend();
    expect(delivered().sort()).toEqual(['a', 'b']);
    expect(storedIds(store)).toEqual([]);
  });

  it('sizes batches in UTF-8 bytes, so multi-byte text stays under the beacon limit', async () => {
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: memoryStore() });
    for (let i = 0; i < 15; i++) sender.add({ ...event(`j${i}`), ti: '日本語のタイトル'.repeat(250) });
    sender.flush(true);
    expect(navigatorLike.sendBeacon.mock.calls.length).toBeGreaterThan(1);
    for (const [, data] of navigatorLike.sendBeacon.mock.calls)
      expect(new Blob([data]).size).toBeLessThan(64 * 1024);
    await until(() => delivered().length === 15);
  });

  it('uses sendBeacon with the batch as text when the page goes away', async () => {
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: memoryStore() });
    sender.add(event('a'));
    sender.flush(true);
    expect(navigatorLike.sendBeacon).toHaveBeenCalledTimes(1);
    const [url, data] = navigatorLike.sendBeacon.mock.calls[0] ?? [];
    expect(url).toBe(endpoint);
    expect(typeof data).toBe('string');
    await until(() => received.length === 1);
    expect(received[0]?.batch.e.map((e) => e.id)).toEqual(['a']);
  });

  it('stores what sendBeacon refuses, so the next page load sends it', async () => {
    navigatorLike.sendBeacon.mockReset().mockReturnValue(false);
    const store = memoryStore();
    const sender = createSender({
      collectUrl: endpoint,
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    sender.add(event('a'));
    sender.flush(true);
    expect(storedIds(store)).toHaveLength(1);
  });

  it('sends beaconed events again on the next page load, since a beacon to a collector that is down is lost', async () => {
    // The browser accepts the beacon and drops it when the collector does not answer.
    navigatorLike.sendBeacon.mockReset().mockReturnValue(true);
    const store = memoryStore();
    const leaving = createSender({
      collectUrl: endpoint,
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    leaving.add(event('a'));
    leaving.add(event('b'));
    leaving.flush(true);

    createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 20 });
    await until(() => delivered().length === 2);
    expect(delivered().sort()).toEqual(['a', 'b']);
    expect(received[0]?.batch.e[0]).not.toHaveProperty('b');
    await until(() => !storedIds(store).length);
  });

  it('does not send again, from the same page, events its beacon took when the tab was hidden', async () => {
    fakeTimers();
    const store = memoryStore();
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store });
    // Hidden: the buffer goes by beacon, which the collector gets.
    sender.add(event('before_hide'));
    sender.flush(true);
    await until(() => delivered().length === 1);
    // Shown again: the next send succeeds, and whatever retry follows it, or the online event's, has
    // nothing of the beacon's to send.
    sender.add(event('after_show'));
    sender.flush();
    await until(() => delivered().length === 2);
    await sender.resend();
    await pastEveryBackoff();
    expect(received.map((r) => r.batch.e.map((e) => e.id))).toEqual([['before_hide'], ['after_show']]);
    // Still kept for the next page load, in case the beacon was lost.
    expect(storedIds(store)).toEqual(['before_hide']);
  });

  it('drops beaconed events after a day instead of sending them again, but still sends failed ones', async () => {
    navigatorLike.sendBeacon.mockReset().mockReturnValue(true);
    const store = memoryStore();
    const leaving = createSender({
      collectUrl: endpoint,
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    leaving.add(event('beaconed'));
    leaving.flush(true);
    navigatorLike.onLine = false;
    leaving.add(event('offline'));
    leaving.flush(true);
    navigatorLike.onLine = true;

    // Past the collector's shortest dedup window a repeat would be stored twice.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + BEACON_RESEND_MS + 60_000);
    const next = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: store, retryBaseMs: 60_000 });
    await next.resend();
    clock.mockRestore();
    expect(delivered()).toEqual(['offline']);
    expect(storedIds(store)).toEqual([]);
  });

  it('splits a large flush into requests under the 64 KiB beacon limit', async () => {
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: memoryStore() });
    const big = (id: string): WireEvent => ({ ...event(id), p: { text: 'x'.repeat(5000) } });
    for (let i = 0; i < 19; i++) sender.add(big(`e${i}`));
    sender.flush(true);
    expect(navigatorLike.sendBeacon.mock.calls.length).toBeGreaterThan(1);
    for (const [, data] of navigatorLike.sendBeacon.mock.calls)
      expect(new Blob([data]).size).toBeLessThan(64 * 1024);
    await until(() => delivered().length === 19);
  });

  it('leaves out, with a warning, an event whose properties are not JSON, and sends the others', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const sender = createSender({ collectUrl: endpoint, writeKey: 'wk_test', kv: memoryStore() });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    sender.add(event('before'));
    sender.add({ ...event('circular'), p: circular });
    sender.add({ ...event('bigint'), p: { n: 10n } });
    sender.add(event('after'));
    // Sending them threw in the page's timer and lost every event of the batch.
    sender.flush();
    await until(() => delivered().length === 2);
    expect(delivered()).toEqual(['before', 'after']);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/^inlet: event "clicked" not sent: the properties/);
    warn.mockRestore();
  });

  it('wipe() drops buffered and stored events', async () => {
    const fetched = fakeTimers();
    const store = memoryStore();
    const sender = createSender({
      collectUrl: endpoint,
      writeKey: 'wk_test',
      kv: store,
      retryBaseMs: 60_000,
    });
    navigatorLike.onLine = false;
    sender.add(event('a'));
    sender.flush(true);
    sender.add(event('b'));
    sender.wipe();
    navigatorLike.onLine = true;
    await sender.resend();
    // Past the batch timer b started, and any retry.
    await pastEveryBackoff();
    expect(fetched).not.toHaveBeenCalled();
    expect(received).toHaveLength(0);
    expect(storedIds(store)).toEqual([]);
  });
});
