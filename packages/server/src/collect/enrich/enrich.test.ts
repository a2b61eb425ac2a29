import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import type { IncomingEvent } from '../incoming.ts';
import {
  createEnricher,
  createUserAgentParser,
  createVisitorHasher,
  splitUrl,
  startSaltExpiry,
} from './index.ts';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

const incoming = (overrides: Partial<IncomingEvent> = {}): IncomingEvent => ({
  eventId: 'e1',
  type: 'page',
  name: null,
  timestamp: undefined,
  sentAt: undefined,
  anonymousId: 'a1',
  userId: null,
  sessionId: null,
  url: null,
  referrer: null,
  title: null,
  campaign: {},
  properties: {},
  context: {},
  userAgent: undefined,
  ip: undefined,
  ...overrides,
});

describe('user agent', () => {
  const parse = createUserAgentParser();
  it('finds browser, OS and device type', () => {
    expect(parse(IPHONE)).toEqual({
      browser: 'Mobile Safari',
      os: 'iOS',
      device_type: 'mobile',
      is_bot: false,
    });
    expect(
      parse(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      ),
    ).toMatchObject({ browser: 'Chrome', os: 'Windows', device_type: 'desktop' });
  });
  it('flags bots', () => {
    expect(parse('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')).toMatchObject({
      is_bot: true,
      device_type: 'bot',
    });
    expect(parse('curl/8.5.0').is_bot).toBe(true);
  });
  it('keeps a user agent of over 1 KB out of its cache, where distinct ones held 150 MB', () => {
    // A request's User-Agent may be as long as the 16 KB of headers allow: 10,000 distinct ones,
    // sent in seconds, were kept in the cache for good (a heap 150 MB larger). A cached answer is
    // the same object each time; a long one is parsed again, alike, and kept nowhere.
    expect(parse(IPHONE)).toBe(parse(IPHONE));
    const long = `${IPHONE} ${'x'.repeat(15_000)}`;
    expect(parse(long)).toEqual(parse(IPHONE));
    expect(parse(long)).not.toBe(parse(long));
    const botTail = `${IPHONE} ${'x'.repeat(2_000)} Googlebot/2.1`;
    expect(parse(botTail)).toMatchObject({ is_bot: true, device_type: 'bot' });
  });
});

describe('url', () => {
  it('splits path and UTM parameters', () => {
    expect(
      splitUrl('https://docs.example.com/guide?utm_source=news&utm_medium=email&utm_campaign=launch&x=1'),
    ).toEqual({
      path: '/guide',
      utm_source: 'news',
      utm_medium: 'email',
      utm_campaign: 'launch',
      utm_term: null,
      utm_content: null,
    });
    expect(splitUrl('/relative?utm_term=sql').utm_term).toBe('sql');
    expect(splitUrl(null).path).toBeNull();
  });

  it('splits UTM parameters out of a hash route, whatever their case, and leaves empty ones out', () => {
    expect(splitUrl('https://app.example.com/#/pricing?utm_source=a&utm_medium=cpc', true)).toMatchObject({
      path: '/#/pricing',
      utm_source: 'a',
      utm_medium: 'cpc',
    });
    expect(splitUrl('https://app.example.com/#/pricing?utm_campaign=spring').utm_campaign).toBe('spring');
    // The page's own query string comes first.
    expect(splitUrl('https://x.example/?utm_source=page#/p?utm_source=route', true).utm_source).toBe('page');
    expect(splitUrl('https://x.example/p?UTM_SOURCE=News&Utm_Medium=email')).toMatchObject({
      utm_source: 'News',
      utm_medium: 'email',
    });
    expect(splitUrl('https://x.example/p?utm_source=&utm_medium=email&utm_term=')).toEqual({
      path: '/p',
      utm_source: null,
      utm_medium: 'email',
      utm_campaign: null,
      utm_term: null,
      utm_content: null,
    });
  });

  it('gives the same parts for a URL seen before, with or without hash routing, past the cache', () => {
    const url = (n: number) => `https://app.example.com/p/${n}?utm_campaign=c${n}#/route/${n}?x=1`;
    const first = { path: '/p/0', utm_campaign: 'c0' };
    expect(splitUrl(url(0))).toMatchObject(first);
    expect(splitUrl(url(0), true)).toMatchObject({ path: '/p/0#/route/0', utm_campaign: 'c0' });
    expect(splitUrl(url(0))).toMatchObject(first);
    for (let n = 1; n <= 3000; n++) expect(splitUrl(url(n)).utm_campaign).toBe(`c${n}`);
    expect(splitUrl(url(0))).toMatchObject(first);
    expect(splitUrl(url(0), true).path).toBe('/p/0#/route/0');
    const long = `https://app.example.com/${'x'.repeat(5000)}?utm_source=s`;
    expect(splitUrl(long)).toMatchObject({ path: `/${'x'.repeat(5000)}`, utm_source: 's' });
  });
});

describe('visitor hash', () => {
  it('is stable within a day, differs across days and sites, and deletes salts older than 48 hours', () => {
    const { dir, cleanup } = tempDir();
    let now = Date.parse('2026-11-20T10:00:00Z');
    writeFileSync(join(dir, '2026-11-10.salt'), 'old');
    const hash = createVisitorHasher({ dir, now: () => now });
    const first = hash('docs', '203.0.113.7', IPHONE);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(hash('docs', '203.0.113.7', IPHONE)).toBe(first);
    expect(hash('shop', '203.0.113.7', IPHONE)).not.toBe(first);
    // The same IP with another user agent, or none, is another visitor, each hashed the same again.
    const other = [hash('docs', '203.0.113.7', 'curl/8.5.0'), hash('docs', '203.0.113.7', undefined)];
    expect(new Set([first, ...other]).size).toBe(3);
    expect([hash('docs', '203.0.113.7', 'curl/8.5.0'), hash('docs', '203.0.113.7', undefined)]).toEqual(
      other,
    );
    expect(hash('docs', '203.0.113.7', IPHONE)).toBe(first);
    expect(existsSync(join(dir, '2026-11-10.salt'))).toBe(false);
    now += 24 * 3600_000;
    expect(hash('docs', '203.0.113.7', IPHONE)).not.toBe(first);
    now += 3 * 24 * 3600_000;
    hash('docs', '203.0.113.7', IPHONE);
    expect(readdirSync(dir).sort()).toEqual(['2026-11-24.salt']);
    cleanup();
  });

  it("gives a visitor hashed before, with others between, the day's hash, and the new day's after midnight", () => {
    const { dir, cleanup } = tempDir();
    let now = Date.parse('2026-11-21T23:59:59Z');
    // Two visitors kept at most: a third pushes the first out.
    const hash = createVisitorHasher({ dir, now: () => now, cacheSize: 2 });
    const fresh = () => createVisitorHasher({ dir, now: () => now });
    const visitors = ['203.0.113.7', '203.0.113.8', '203.0.113.9'];
    const evening = visitors.map((ip) => hash('docs', ip, IPHONE));
    expect(new Set(evening).size).toBe(3);
    for (const [i, ip] of [...visitors, ...visitors].entries())
      expect(hash('docs', ip, IPHONE)).toBe(evening[i % 3]);
    // A user agent too long to keep is hashed each time, alike.
    const long = `${IPHONE} ${'x'.repeat(2000)}`;
    expect(hash('docs', visitors[0], long)).toBe(fresh()('docs', visitors[0], long));
    expect(hash('docs', visitors[0], long)).toBe(hash('docs', visitors[0], long));
    now += 2000;
    // Past midnight the day's salt is new: no hash of the evening is given again, kept or not (the
    // last two visitors' were kept, and are asked for first).
    const night = [...visitors]
      .reverse()
      .map((ip) => hash('docs', ip, IPHONE))
      .reverse();
    expect(night).toEqual(visitors.map((ip) => fresh()('docs', ip, IPHONE)));
    for (const [i, nightHash] of night.entries()) expect(nightHash).not.toBe(evening[i]);
    cleanup();
  });

  it('deletes salts older than 48 hours when it starts and every hour after, with no event hashed', () => {
    const { dir, cleanup } = tempDir();
    vi.useFakeTimers({
      now: Date.parse('2026-11-20T10:00:00Z'),
      toFake: ['Date', 'setInterval', 'clearInterval'],
    });
    try {
      for (const day of ['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'])
        writeFileSync(join(dir, `${day}.salt`), 'x'.repeat(32));
      const expiry = startSaltExpiry({ dir });
      expect(readdirSync(dir).sort()).toEqual(['2026-11-19.salt', '2026-11-20.salt']);
      // The 19th's salt turns 48 hours old at midnight; the hour after, it is gone.
      vi.advanceTimersByTime(15 * 3600_000);
      expect(readdirSync(dir).sort()).toEqual(['2026-11-20.salt']);
      expiry.stop();
    } finally {
      vi.useRealTimers();
      cleanup();
    }
  });

  it('never hashes with a salt cut short, and two hashers of one directory agree on the salt', () => {
    const { dir, cleanup } = tempDir();
    const now = () => Date.parse('2026-11-20T10:00:00Z');
    // What a crash between creating the file and writing it left: an empty salt hashes nothing away.
    writeFileSync(join(dir, '2026-11-20.salt'), '');
    const first = createVisitorHasher({ dir, now });
    const second = createVisitorHasher({ dir, now });
    const hash = first('docs', '203.0.113.7', IPHONE);
    expect(readFileSync(join(dir, '2026-11-20.salt'))).toHaveLength(32);
    expect(hash).not.toBe(
      createHash('sha256').update(`docs\u0000203.0.113.7\u0000${IPHONE}`).digest('hex').slice(0, 16),
    );
    expect(second('docs', '203.0.113.7', IPHONE)).toBe(hash);
    expect(readdirSync(dir)).toEqual(['2026-11-20.salt']);
    cleanup();
  });
});

describe('enrich', () => {
  it('corrects clock skew with sentAt, keeps no raw IP and derives dt from ts', () => {
    const { dir, cleanup } = tempDir();
    const enrich = createEnricher({ saltDir: dir });
    const receivedAt = Date.parse('2026-11-22T00:00:10Z');
    // The client clock is 1 hour slow: it sent at 23:00:10 its time, the event happened 5 s before; the
    // first second of the difference is taken for the request's time in transit.
    const record = enrich(
      'docs',
      incoming({
        timestamp: Date.parse('2026-11-21T23:00:05Z'),
        sentAt: Date.parse('2026-11-21T23:00:10Z'),
        context: { ip: '203.0.113.9', locale: 'ja-JP' },
        url: 'https://d.example/x?utm_source=a',
      }),
      { receivedAt, ip: '127.0.0.1', userAgent: IPHONE, origin: undefined },
    );
    expect(record.ts).toBe('2026-11-22T00:00:04.000Z');
    expect(record.dt).toBe('2026-11-22');
    expect(record.received_at).toBe('2026-11-22T00:00:10.000Z');
    expect(record.context).toEqual({ locale: 'ja-JP' });
    expect(JSON.stringify(record)).not.toContain('203.0.113.9');
    expect(record.visitor_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(record).toMatchObject({ path: '/x', utm_source: 'a', device_type: 'mobile' });
    cleanup();
  });

  it('keeps the order of events of one page sent in two requests that took unlike times to arrive', () => {
    // A page's first request pays for the connection (DNS, TCP, TLS) and its next does not: the second
    // of transit added to every event of the first put the events of the first request after those
    // of the next, recorded a moment later (half the runs of 25 track() calls in Chromium on localhost).
    // A clock behind by more than a second is still corrected, and one ahead in full.
    const { dir, cleanup } = tempDir();
    const enrich = createEnricher({ saltDir: dir });
    const at = Date.parse('2026-11-22T00:00:10Z');
    const tsOf = (timestamp: number, sentAt: number, receivedAt: number) =>
      enrich('docs', incoming({ timestamp, sentAt }), {
        receivedAt,
        ip: '127.0.0.1',
        userAgent: IPHONE,
        origin: undefined,
      }).ts;
    // The 20th event went in the first request, 600 ms in transit; the 21st, 2 ms later, in the
    // second, sent a second later and 40 ms in transit.
    const first = tsOf(at, at + 1, at + 601);
    const second = tsOf(at + 2, at + 1001, at + 1041);
    expect([first, second]).toEqual(['2026-11-22T00:00:10.000Z', '2026-11-22T00:00:10.002Z']);
    // A clock 30 s behind is corrected by what of it is past a second of transit.
    expect(tsOf(at - 30_000, at - 29_000, at + 1200)).toBe('2026-11-22T00:00:09.200Z');
    // A clock 30 s ahead, in full.
    expect(tsOf(at + 30_000, at + 31_000, at + 1200)).toBe('2026-11-22T00:00:10.200Z');
    cleanup();
  });

  it('files an event stamped after its own sentAt at its arrival, not in the future', () => {
    const { dir, cleanup } = tempDir();
    const enrich = createEnricher({ saltDir: dir });
    const receivedAt = Date.parse('2026-11-22T00:00:10Z');
    const record = enrich(
      'docs',
      incoming({ timestamp: Date.parse('2026-11-22T20:00:00Z'), sentAt: Date.parse('2026-11-22T00:00:00Z') }),
      { receivedAt, ip: '127.0.0.1', userAgent: IPHONE, origin: undefined },
    );
    expect(record.ts).toBe('2026-11-22T00:00:10.000Z');
    cleanup();
  });

  it('takes the arrival time for an event time further back than limits.max_event_age_days', () => {
    const { dir, cleanup } = tempDir();
    const receivedAt = Date.parse('2026-11-22T00:00:10Z');
    const meta = { receivedAt, ip: '127.0.0.1', userAgent: IPHONE, origin: undefined };
    const at = (enrich: ReturnType<typeof createEnricher>, timestamp: string) =>
      enrich('docs', incoming({ timestamp: Date.parse(timestamp) }), meta).ts;
    const limited = createEnricher({ saltDir: dir, maxEventAgeDays: 365 });
    expect(at(limited, '2025-11-22T00:00:11Z')).toBe('2025-11-22T00:00:11.000Z');
    expect(at(limited, '2025-11-22T00:00:09Z')).toBe('2026-11-22T00:00:10.000Z');
    expect(at(limited, '1970-01-01T00:00:00Z')).toBe('2026-11-22T00:00:10.000Z');
    // 0: any time is kept, for a backfill.
    expect(at(createEnricher({ saltDir: dir, maxEventAgeDays: 0 }), '1970-01-01T00:00:00Z')).toBe(
      '1970-01-01T00:00:00.000Z',
    );
    // A site's own limit wins over the global one: an import site takes any time, the rest do not.
    const perSite = createEnricher({
      saltDir: dir,
      maxEventAgeDays: 365,
      sites: [{ id: 'docs', max_event_age_days: 0 }, { id: 'shop' }],
    });
    expect(at(perSite, '1970-01-01T00:00:00Z')).toBe('1970-01-01T00:00:00.000Z');
    expect(perSite('shop', incoming({ timestamp: 0 }), meta).ts).toBe('2026-11-22T00:00:10.000Z');
    cleanup();
  });

  it('takes the arrival time for an event time more than a day ahead of it', () => {
    const { dir, cleanup } = tempDir();
    const enrich = createEnricher({ saltDir: dir });
    const receivedAt = Date.parse('2026-11-22T00:00:10Z');
    const meta = { receivedAt, ip: '127.0.0.1', userAgent: IPHONE, origin: undefined };
    const at = (timestamp: string) => enrich('docs', incoming({ timestamp: Date.parse(timestamp) }), meta).ts;
    expect(at('2026-11-22T23:00:00Z')).toBe('2026-11-22T23:00:00.000Z');
    expect(at('2031-01-01T00:00:00Z')).toBe('2026-11-22T00:00:10.000Z');
    // The past stays as sent: imports of old events are real.
    expect(at('2019-05-01T00:00:00Z')).toBe('2019-05-01T00:00:00.000Z');
    cleanup();
  });

  it('gives a returning visitor a new hash on a new day, with no hash kept across midnight', () => {
    const { dir, cleanup } = tempDir();
    let now = Date.parse('2026-11-21T23:59:59Z');
    const enrich = createEnricher({ saltDir: dir, now: () => now });
    const visit = () =>
      enrich('docs', incoming({}), {
        receivedAt: now,
        ip: '203.0.113.9',
        userAgent: IPHONE,
        origin: undefined,
      }).visitor_hash;
    const lateEvening = visit();
    expect(visit()).toBe(lateEvening);
    now += 2000;
    const afterMidnight = visit();
    expect(afterMidnight).not.toBe(lateEvening);
    now += 3600_000;
    expect(visit()).toBe(afterMidnight);
    cleanup();
  });

  it('gives a message without an id a stable id, so an exact retry collapses', () => {
    const { dir, cleanup } = tempDir();
    const enrich = createEnricher({ saltDir: dir });
    const meta = { receivedAt: Date.now(), ip: undefined, userAgent: undefined, origin: undefined };
    const a = enrich('docs', incoming({ eventId: null, timestamp: 1_700_000_000_000 }), meta);
    const b = enrich('docs', incoming({ eventId: null, timestamp: 1_700_000_000_000 }), {
      ...meta,
      receivedAt: meta.receivedAt + 5000,
    });
    expect(a.event_id).toBe(b.event_id);
    expect(a.event_id).toMatch(/^h-/);
    cleanup();
  });
});
