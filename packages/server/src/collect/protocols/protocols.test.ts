import { describe, expect, it } from 'vitest';
import { parseInletBatch } from './inlet.ts';
import { parsePixel } from './pixel.ts';
import { parseSegment } from './segment.ts';

describe('Segment protocol', () => {
  it('maps every call type onto events', () => {
    const { events, writeKey } = parseSegment(
      {
        writeKey: 'wk_x',
        sentAt: '2026-11-22T00:00:00Z',
        batch: [
          { type: 'track', event: 'Signed Up', userId: 'u1', properties: { plan: 'pro' }, messageId: 'm1' },
          {
            type: 'page',
            name: 'Home',
            anonymousId: 'a1',
            context: {
              page: { url: 'https://x.example/?utm_source=s', referrer: 'https://g.example/', title: 'Home' },
            },
          },
          { type: 'identify', userId: 'u1', traits: { email: 'a@example.com' } },
          { type: 'group', userId: 'u1', groupId: 'g1', traits: { name: 'Acme' } },
          { type: 'alias', userId: 'u1', previousId: 'a1' },
          { type: 'screen', name: 'Settings', userId: 'u1' },
        ],
      },
      undefined,
    );
    expect(writeKey).toBe('wk_x');
    expect(events.map((e) => [e.type, e.name])).toEqual([
      ['track', 'Signed Up'],
      ['page', 'Home'],
      ['identify', null],
      ['group', null],
      ['alias', null],
      ['screen', 'Settings'],
    ]);
    expect(events[1]).toMatchObject({
      url: 'https://x.example/?utm_source=s',
      referrer: 'https://g.example/',
      title: 'Home',
    });
    expect(events[2]?.properties).toEqual({ email: 'a@example.com' });
    expect(events[3]?.properties).toEqual({ name: 'Acme', group_id: 'g1' });
    expect(events[4]?.properties).toEqual({ previous_id: 'a1' });
    expect(events[0]?.sentAt).toBe(Date.parse('2026-11-22T00:00:00Z'));
  });

  it('reads a type in any case, as RudderStack does, and names the type it got when it is none of them', () => {
    // "Track" had every message refused, where RudderStack's warehouse files it as a track call.
    const { events } = parseSegment(
      {
        batch: [
          { type: 'Track', event: 'Signed Up', userId: 'u1' },
          { type: 'PAGE', name: 'Home', userId: 'u1' },
          { type: 'Identify', userId: 'u1', traits: { plan: 'pro' } },
        ],
      },
      undefined,
    );
    expect(events.map((e) => [e.type, e.name])).toEqual([
      ['track', 'Signed Up'],
      ['page', 'Home'],
      ['identify', null],
    ]);
    expect(() => parseSegment({ batch: [{ type: 'Trak', userId: 'u' }] }, undefined)).toThrow(
      'batch[0].type: must be one of page, track, identify, screen, group, alias (in any case); got "Trak"',
    );
    expect(() => parseSegment({ batch: [{ userId: 'u' }] }, undefined)).toThrow(
      'batch[0].type: must be one of page, track, identify, screen, group, alias (in any case); none was given',
    );
  });

  it("reads RudderStack's variants: identify traits in context.traits, and $direct for no referrer", () => {
    const { events } = parseSegment(
      {
        batch: [
          { type: 'identify', userId: 'u1', context: { traits: { plan: 'pro' } } },
          { type: 'identify', userId: 'u1', traits: { plan: 'team' }, context: { traits: { plan: 'pro' } } },
          {
            type: 'page',
            anonymousId: 'a1',
            context: { page: { url: 'https://x.example/', referrer: '$direct' } },
          },
        ],
      },
      undefined,
    );
    expect(events[0]?.properties).toEqual({ plan: 'pro' });
    expect(events[1]?.properties).toEqual({ plan: 'team' });
    expect(events[2]?.referrer).toBeNull();
    expect(() =>
      parseSegment({ type: 'identify', userId: 'u1', context: { traits: ['x'] } }, 'identify'),
    ).toThrow('body.context.traits: must be a JSON object');
  });

  it("takes a page's location from its path and search when it gives no url, as server SDKs' page calls do", () => {
    const { events } = parseSegment(
      {
        batch: [
          { type: 'page', userId: 'u', properties: { path: '/pricing', search: '?utm_source=news' } },
          { type: 'page', userId: 'u', context: { page: { path: '/docs' } } },
          { type: 'page', userId: 'u', properties: { path: '/a', url: 'https://x.example/b' } },
          { type: 'track', event: 'Exported', userId: 'u', properties: { path: '/tmp/report.csv' } },
          { type: 'page', userId: 'u', properties: { path: 'relative/no-slash' } },
        ],
      },
      undefined,
    );
    expect(events.map((e) => e.url)).toEqual([
      '/pricing?utm_source=news',
      '/docs',
      'https://x.example/b',
      null,
      null,
    ]);
  });

  it("takes a track call's location from context.page, where its properties are its own (a product's url)", () => {
    const page = { url: 'https://shop.example/list', title: 'List', referrer: 'https://g.example/' };
    const product = { url: 'https://shop.example/p/42', title: 'Mug', referrer: 'campaign-7' };
    const { events } = parseSegment(
      {
        batch: [
          { type: 'track', event: 'Product Clicked', userId: 'u', properties: product, context: { page } },
          { type: 'screen', name: 'Cart', userId: 'u', properties: product, context: { page } },
          // A server SDK's track call has no context.page: its properties' url is all there is.
          { type: 'track', event: 'Exported', userId: 'u', properties: { url: 'https://shop.example/x' } },
          // A page call's properties describe the page, as analytics.js sends them.
          { type: 'page', userId: 'u', properties: product, context: { page } },
          // An empty one says nothing: the other place's is taken.
          { type: 'page', userId: 'u', properties: { ...product, referrer: '' }, context: { page } },
        ],
      },
      undefined,
    );
    expect(events.map((e) => [e.url, e.title, e.referrer])).toEqual([
      [page.url, page.title, page.referrer],
      [page.url, page.title, page.referrer],
      ['https://shop.example/x', null, null],
      [product.url, product.title, product.referrer],
      [product.url, product.title, page.referrer],
    ]);
    expect(events[0]?.properties).toEqual(product);
    expect(() =>
      parseSegment({ userId: 'u', event: 'e', context: { page: { url: 42.5, title: {} } } }, 'track'),
    ).toThrow('body.context.page.title: must be a string');
  });

  it("cuts a long title, url and referrer to their columns' length, where analytics.js lost the page view", () => {
    // Half an emoji at the cut is left out with its other half.
    const title = `${'t'.repeat(1999)}😀 and more`;
    const url = `https://x.example/app?state=${'s'.repeat(9000)}`;
    const properties = { title, url, referrer: url };
    const [page, track] = parseSegment(
      {
        batch: [
          { type: 'page', anonymousId: 'a', properties },
          { type: 'track', event: 'e', anonymousId: 'a', context: { page: properties } },
        ],
      },
      undefined,
    ).events;
    for (const event of [page, track]) {
      expect(event?.title).toBe('t'.repeat(1999));
      expect(event?.url).toBe(url.slice(0, 8192));
      expect(event?.referrer).toBe(url.slice(0, 8192));
    }
    // The whole text stays where it came.
    expect(page?.properties).toEqual(properties);
    expect(() => parseSegment({ anonymousId: 'a', properties: { title: ['x'] } }, 'page')).toThrow(
      'body.properties.title: must be a string',
    );
  });

  it('reads a numeric time in seconds as seconds, not as milliseconds in January 1970', () => {
    const at = Date.parse('2024-12-04T08:13:20Z');
    const { events } = parseSegment(
      {
        sentAt: 1_733_300_000,
        batch: [
          { type: 'track', event: 'e', userId: 'u', timestamp: 1_733_300_000 },
          { type: 'track', event: 'e', userId: 'u', originalTimestamp: 1_733_300_000.25 },
          { type: 'track', event: 'e', userId: 'u', timestamp: at, sentAt: at * 1000 },
          // Digits as text, as some clients send them and as a body's nanoseconds beyond 2^53 are read.
          { type: 'track', event: 'e', userId: 'u', timestamp: '1733300000', sentAt: `${at}000000` },
        ],
      },
      undefined,
    );
    expect(events.map((e) => [e.timestamp, e.sentAt])).toEqual([
      [at, at],
      [at + 250, at],
      [at, at],
      [at, at],
    ]);
    expect(parsePixel({ k: 'wk', a: 'a', ts: '1733300000' }, undefined).events[0]?.timestamp).toBe(at);
    expect(
      parseInletBatch({ k: 'wk', e: [{ t: 'page', a: 'a', ts: 1_733_300_000 }] }).events[0]?.timestamp,
    ).toBe(at);
  });

  it("reads times in toISOString's form the same whether or not their day was read just before", () => {
    const read = (timestamp: string) =>
      parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp }] }, undefined).events[0]?.timestamp;
    // The day of the time read before is kept: each of these follows a time of another day, or of
    // its own day, and must read as if read alone.
    const times = [
      '2026-12-07T23:59:59.999Z',
      '2026-12-07T00:00:00.000Z',
      '2026-12-08T00:00:00.001Z',
      '2026-12-07T12:34:56.789Z',
      '2028-02-29T10:00:00.000Z',
      '2026-12-07T09:05:07.010Z',
    ];
    for (const time of [...times, ...times.reverse()])
      expect([time, read(time)]).toEqual([time, Date.parse(time)]);
    // A time of the day read before is still checked whole: what no day has is read as isoMs reads
    // it (24:00 the end of the day, a leap second its minute's last millisecond) or refused.
    read('2026-12-05T10:00:00.000Z');
    expect(read('2026-12-05T24:00:00.000Z')).toBe(Date.parse('2026-12-06T00:00:00Z'));
    expect(read('2026-12-05T23:59:60.000Z')).toBe(Date.parse('2026-12-05T23:59:59.999Z'));
    for (const timestamp of [
      '2026-12-05T24:00:01.000Z',
      '2026-12-05T10:60:00.000Z',
      '2026-12-05T1a:00:00.000Z',
    ])
      expect(() => read(timestamp)).toThrow(`"${timestamp}" is not a date and time inlet can read`);
    // A day the calendar has not is refused after a day of the same month was read.
    read('2026-02-28T10:00:00.000Z');
    expect(() => read('2026-02-30T10:00:00.000Z')).toThrow('2026-02-30 is not a day of the calendar');
    // A day before 1970 is kept by no read: the next time of that day is refused too.
    for (let i = 0; i < 2; i++)
      expect(() => read('1969-12-31T23:59:59.000Z')).toThrow('is not a valid date from 1970 on');
  });

  it('keeps numeric ids as text, and refuses one too large for a JSON number to hold exactly', () => {
    const message = (userId: unknown) => ({ batch: [{ type: 'track', event: 'e', userId }] });
    expect(parseSegment(message(9_007_199_254_740_991), undefined).events[0]?.userId).toBe(
      '9007199254740991',
    );
    // The body's 1234567890123456789 as JSON.parse reads it: 1234567890123456800.
    expect(() =>
      parseSegment(JSON.parse(JSON.stringify(message(0)).replace('0', '1234567890123456789')), undefined),
    ).toThrow('batch[0].userId: is a number too large to keep exactly (beyond 2^53); send it as a string');
  });

  it('names the first bad field', () => {
    expect(() => parseSegment({ batch: [{ type: 'track', userId: 'u' }] }, undefined)).toThrow(
      'batch[0].event: is required for a track call',
    );
    expect(() => parseSegment({ batch: [{ type: 'track', event: 'x' }] }, undefined)).toThrow(
      'batch[0].userId: userId or anonymousId is required',
    );
    expect(() =>
      parseSegment({ batch: [{ type: 'group', userId: 'u', traits: { a: 1 } }] }, undefined),
    ).toThrow('batch[0].groupId: is required for a group call');
    expect(() => parseSegment({ userId: 'u', previousId: '' }, 'alias')).toThrow(
      'body.previousId: is required for an alias call',
    );
    expect(() => parseSegment({ batch: [{ type: 'bogus', userId: 'u' }] }, undefined)).toThrow(
      /batch\[0\]\.type: must be one of/,
    );
    expect(() =>
      parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp: 'yesterday' }] }, undefined),
    ).toThrow(/batch\[0\]\.timestamp: must be an ISO 8601/);
    // Days a month does not have, which Date.parse would move into the next month.
    for (const timestamp of ['2026-02-30T10:00:00Z', '2026-02-29', '2026-04-31T00:00:00+09:00']) {
      expect(() => parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp }] }, undefined)).toThrow(
        `batch[0].timestamp: ${timestamp.slice(0, 10)} is not a day of the calendar`,
      );
    }
    expect(
      parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp: '2028-02-29T10:00:00Z' }] }, undefined)
        .events[0]?.timestamp,
    ).toBe(Date.parse('2028-02-29T10:00:00Z'));
    // A time with no offset is UTC, as a date alone is: Date.parse read it in the server's time zone,
    // so the same event was filed nine hours apart on a server with TZ=Asia/Tokyo.
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      for (const timestamp of ['2026-12-03T10:00:00', '2026-12-03 10:00:00.5', '2026-12-03T10:00']) {
        const [event] = parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp }] }, undefined).events;
        expect([timestamp, event?.timestamp]).toEqual([
          timestamp,
          Date.parse(`${timestamp.slice(0, 10)}T10:00:00.${timestamp.endsWith('.5') ? 5 : 0}Z`),
        ]);
      }
      const [offset] = parseSegment(
        { batch: [{ type: 'page', userId: 'u', timestamp: '2026-12-03 10:00:00+0900' }] },
        undefined,
      ).events;
      expect(offset?.timestamp).toBe(Date.parse('2026-12-03T01:00:00Z'));
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    // One that starts as a date but cannot be read is named as unreadable, not as out of range.
    expect(() =>
      parseSegment(
        { batch: [{ type: 'page', userId: 'u', timestamp: '2026-12-03T10:00:00,5Z' }] },
        undefined,
      ),
    ).toThrow('batch[0].timestamp: "2026-12-03T10:00:00,5Z" is not a date and time inlet can read');
    // Text after a date was read by Date.parse's loose fallback: "2026-12-05junk" was 12 June 2026.
    for (const timestamp of ['2026-12-05junk', '2026-12-05 junk', '2026-12-05T10:00:00Zjunk']) {
      expect(() => parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp }] }, undefined)).toThrow(
        `batch[0].timestamp: "${timestamp}" is not a date and time inlet can read`,
      );
    }
    // ISO 8601 forms Date.parse refused: an offset in hours alone, and a leap second, which stays
    // in its minute (and its day) as the minute's last millisecond.
    const read = (timestamp: string) =>
      parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp }] }, undefined).events[0]?.timestamp;
    expect(read('2026-12-05T10:00:00-05')).toBe(Date.parse('2026-12-05T15:00:00Z'));
    expect(read('2026-12-05T10:00:00.5+09')).toBe(Date.parse('2026-12-05T01:00:00.500Z'));
    expect(read('2016-12-31T23:59:60Z')).toBe(Date.parse('2016-12-31T23:59:59.999Z'));
    expect(read('2026-12-05T10:00:00.123456789Z')).toBe(Date.parse('2026-12-05T10:00:00.123Z'));
    expect(read('2026-12-05T24:00:00Z')).toBe(Date.parse('2026-12-06T00:00:00Z'));
    expect(read('2026-12-05 10:00:00.123456 UTC')).toBe(Date.parse('2026-12-05T10:00:00.123Z'));
    expect(read('2026-12-05 10:00:00 GMT+0900')).toBe(Date.parse('2026-12-05T01:00:00Z'));
    for (const timestamp of ['2026-13-05T10:00:00Z', '2026-12-05T24:00:01Z', '2026-12-05T10:00:00+24:00']) {
      expect(() => read(timestamp)).toThrow(`"${timestamp}" is not a date and time inlet can read`);
    }
    expect(() => read('0099-01-01T00:00:00Z')).toThrow('is not a valid date from 1970 on');
    // A year past 9999 as toISOString writes it: read (enrich files such a clock at its arrival).
    expect(read('+056896-02-02T14:13:20.000Z')).toBe(1_733_300_000_000_000);
    expect(() => read('-000001-01-01T00:00:00Z')).toThrow('is not a valid date from 1970 on');
    for (const timestamp of ['+275760-09-13T00:00:00.001Z', '+999999-01-01T00:00:00Z'])
      expect(() => read(timestamp)).toThrow(`batch[0].timestamp: is later than any date a time can hold`);
    expect(() =>
      parseSegment({ batch: [{ type: 'page', userId: 'u', timestamp: 1e300 }] }, undefined),
    ).toThrow('is later than any date a time can hold');
    expect(() => parseSegment({ batch: 'x' }, undefined)).toThrow('batch: must be an array of messages');
    expect(() => parseSegment({ batch: [] }, undefined)).toThrow('batch: is empty');
    expect(() => parseSegment([], 'track')).toThrow('body: must be a JSON object');
    expect(() => parseSegment({ userId: 'u', event: 'x', properties: 'no' }, 'track')).toThrow(
      'body.properties: must be a JSON object',
    );
  });
});

describe('Segment fields read from elsewhere, or of a kind no client means', () => {
  it('reads a forwarded list or an address with a port as the visitor; refuses text that holds none', () => {
    // A server that forwards X-Forwarded-For whole hashed each proxy chain as a visitor of its own,
    // and "unknown" made one visitor of everyone.
    for (const ip of ['unknown', 12345, 'unknown, 10.0.0.1', '203.0.113.7:x', ''.padEnd(20, 'a')])
      expect(() =>
        parseSegment({ batch: [{ type: 'track', event: 'x', userId: 'u', context: { ip } }] }, undefined),
      ).toThrow(`batch[0].context.ip: ${JSON.stringify(String(ip))} is not an IP address`);
    const read = (ip: string) =>
      parseSegment({ type: 'track', event: 'x', userId: 'u', context: { ip } }, 'track').events[0]?.ip;
    for (const ip of ['203.0.113.7', '2001:db8::1', '::ffff:203.0.113.7', '0.0.0.0'])
      expect(read(ip)).toBe(ip);
    expect(read('203.0.113.7, 10.0.0.1')).toBe('203.0.113.7');
    expect(read(' 2001:db8::1 ,10.0.0.1')).toBe('2001:db8::1');
    expect(read('203.0.113.7:50123')).toBe('203.0.113.7');
    expect(read('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(read('[2001:db8::1]')).toBe('2001:db8::1');
  });

  it('names originalTimestamp and properties.session_id when the bad value came from them', () => {
    // Both were named as the field they stand in for, which the message did not send.
    expect(() =>
      parseSegment({ type: 'track', event: 'x', userId: 'u', originalTimestamp: 'yesterday' }, 'track'),
    ).toThrow('body.originalTimestamp: must be an ISO 8601 date string');
    expect(() =>
      parseSegment({ type: 'track', event: 'x', userId: 'u', properties: { session_id: { a: 1 } } }, 'track'),
    ).toThrow('body.properties.session_id: must be a string');
    // Where both are sent, timestamp and context.sessionId are read, and named.
    expect(() =>
      parseSegment(
        { type: 'track', event: 'x', userId: 'u', timestamp: 'soon', originalTimestamp: '2026-12-07' },
        'track',
      ),
    ).toThrow('body.timestamp: must be an ISO 8601 date string');
  });
});

describe('blank ids and names', () => {
  // White space only (a template's unfilled "{{ id }}", a padded column): such an event was stored,
  // under the event name "   " or as a user "  " every request without a user shared.
  const BLANKS = ['   ', '\t', ' \n ', '\u00a0', '\u3000'];

  it('refuses a blank event name, group id or previous id as it refuses an empty one, naming it', () => {
    for (const blank of BLANKS) {
      const refused = parseSegment(
        {
          batch: [
            { type: 'track', event: 'Signed Up', userId: 'u' },
            { type: 'track', event: blank, userId: 'u' },
            { type: 'group', groupId: blank, userId: 'u' },
            { type: 'alias', previousId: blank, userId: 'u' },
          ],
        },
        undefined,
      );
      expect([refused.events.length, refused.refused?.count, refused.refused?.error.message]).toEqual([
        1,
        3,
        'batch[1].event: is required for a track call (a value of only white space is none)',
      ]);
      expect(() => parseSegment({ userId: 'u', groupId: blank }, 'group')).toThrow(
        'body.groupId: is required for a group call (a value of only white space is none)',
      );
      expect(() => parseSegment({ userId: 'u', previousId: blank }, 'alias')).toThrow(
        'body.previousId: is required for an alias call (a value of only white space is none)',
      );
      expect(() => parseInletBatch({ k: 'wk', e: [{ t: 'track', n: blank, a: 'a' }] })).toThrow(
        'e[0].n: is required for a track event (a value of only white space is none)',
      );
      expect(() => parsePixel({ k: 'wk', n: blank, t: 'track' }, undefined)).toThrow(
        'n: is required when t=track (a value of only white space is none)',
      );
    }
  });

  it('reads a blank user id, anonymous id, message id or session id as none, as an empty one is', () => {
    for (const blank of BLANKS) {
      const [event] = parseSegment(
        {
          type: 'track',
          event: 'x',
          userId: blank,
          anonymousId: 'a1',
          messageId: blank,
          context: { sessionId: blank },
        },
        'track',
      ).events;
      expect([event?.userId, event?.anonymousId, event?.eventId, event?.sessionId]).toEqual([
        null,
        'a1',
        null,
        null,
      ]);
      expect(() => parseSegment({ type: 'page', userId: blank, anonymousId: blank }, 'page')).toThrow(
        'body.userId: userId or anonymousId is required (a value of only white space is none)',
      );
      expect(() => parseInletBatch({ k: 'wk', e: [{ t: 'page', a: blank, u: '' }] })).toThrow(
        'e[0].a: an anonymous id (a) or user id (u) is required (a value of only white space is none)',
      );
      const [compact] = parseInletBatch({
        k: 'wk',
        e: [{ t: 'page', id: blank, a: 'a', u: blank, s: blank }],
      }).events;
      expect([compact?.eventId, compact?.anonymousId, compact?.userId, compact?.sessionId]).toEqual([
        null,
        'a',
        null,
        null,
      ]);
      const [pixel] = parsePixel({ k: 'wk', id: blank, a: blank, u: blank, s: blank }, undefined).events;
      expect([pixel?.eventId, pixel?.anonymousId, pixel?.userId, pixel?.sessionId]).toEqual([
        null,
        null,
        null,
        null,
      ]);
    }
    // Spaces within an id or a name, or around it, are the client's: kept as sent.
    const [kept] = parseSegment(
      { type: 'track', event: ' Signed Up ', userId: 'Ada Lovelace', anonymousId: ' a 1' },
      'track',
    ).events;
    expect([kept?.name, kept?.userId, kept?.anonymousId]).toEqual([' Signed Up ', 'Ada Lovelace', ' a 1']);
  });
});

describe('inlet batch protocol', () => {
  it('parses the compact format', () => {
    const parsed = parseInletBatch({
      k: 'wk',
      sa: 1_700_000_001_000,
      e: [
        {
          id: 'x',
          t: 'track',
          n: 'search',
          ts: 1_700_000_000_000,
          a: 'a',
          s: 's1',
          p: { query: 'sso', results: 0 },
        },
      ],
    });
    expect(parsed.writeKey).toBe('wk');
    expect(parsed.events[0]).toMatchObject({
      eventId: 'x',
      type: 'track',
      name: 'search',
      sessionId: 's1',
      timestamp: 1_700_000_000_000,
      sentAt: 1_700_000_001_000,
    });
  });
  it('names bad fields', () => {
    expect(() => parseInletBatch({ k: 'wk', e: [{ t: 'track', a: 'a' }] })).toThrow(
      'e[0].n: is required for a track event',
    );
    expect(() => parseInletBatch({ k: 'wk', e: [{ t: 'nope', a: 'a' }] })).toThrow(/e\[0\]\.t/);
    // Names every object inherits are no event types either.
    for (const t of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(() => parseInletBatch({ k: 'wk', e: [{ t, a: 'a' }] })).toThrow(
        'e[0].t: must be "page", "track" or "identify"',
      );
    }
    expect(() => parseInletBatch({ k: 'wk' })).toThrow('e: must be an array of events');
  });
});

describe('pixel', () => {
  it("cuts a long url, ref, title and Referer to the columns' lengths, as the other protocols do, rather than refuse the view", () => {
    // A url past 8,192 characters was refused, a view lost unseen behind the image; a Referer was
    // stored whole, 12,000 characters and more.
    const long = `https://docs.example.com/${'a'.repeat(12_000)}`;
    const [event] = parsePixel({ k: 'wk', url: long, ref: long, ti: 't'.repeat(3000) }, undefined).events;
    expect([event?.url?.length, event?.referrer?.length, event?.title?.length]).toEqual([8192, 8192, 2000]);
    expect(parsePixel({ k: 'wk' }, long).events[0]?.url).toBe(long.slice(0, 8192));
  });

  it('falls back to the Referer for the page URL and parses JSON properties', () => {
    const parsed = parsePixel({ k: 'wk', a: 'a', p: '{"campaign":"nov"}' }, 'https://docs.example.com/page');
    expect(parsed.events[0]).toMatchObject({
      type: 'page',
      url: 'https://docs.example.com/page',
      properties: { campaign: 'nov' },
    });
    expect(parsePixel({ k: 'wk', n: 'email_open', u: 'u1' }, undefined).events[0]).toMatchObject({
      type: 'track',
      name: 'email_open',
      userId: 'u1',
    });
    expect(() => parsePixel({ k: 'wk', p: '{' }, undefined)).toThrow('p: must be a JSON object, URL-encoded');
  });

  it('reads ts as the batch protocol reads timestamp, 0 and decimals included', () => {
    // ts=0 was refused as no date ("0" || "0" fell through to the text check) where timestamp: 0 is taken.
    const pixelTs = (ts: string) => parsePixel({ k: 'wk', a: 'a', ts }, undefined).events[0]?.timestamp;
    const batchTs = (ts: unknown) =>
      parseInletBatch({ k: 'wk', e: [{ t: 'page', a: 'a', ts }] }).events[0]?.timestamp;
    for (const [text, number] of [
      ['0', 0],
      ['1733300000', 1_733_300_000],
      ['1733300000.25', 1_733_300_000.25],
      ['1733300000123', 1_733_300_000_123],
    ] as const)
      expect(pixelTs(text)).toBe(batchTs(number));
    expect(pixelTs('2026-11-22T09:30:00Z')).toBe(Date.UTC(2026, 10, 22, 9, 30));
    // ts=2026-11-22T09:30:00+09:00 written in a URL unencoded: its + reads as a space.
    expect(pixelTs('2026-11-22T09:30:00 09:00')).toBe(Date.UTC(2026, 10, 22, 0, 30));
    expect(pixelTs('2026-11-22 09:30:00.5 0900')).toBe(Date.UTC(2026, 10, 22, 0, 30, 0, 500));
    expect(pixelTs('2026-11-22 09:30')).toBe(Date.UTC(2026, 10, 22, 9, 30));
    expect(pixelTs('')).toBeUndefined();
    expect(() => pixelTs(' ')).toThrow('ts: must be an ISO 8601 date string');
    expect(() => pixelTs('-5')).toThrow('ts: is not a valid date from 1970 on');
  });
});
