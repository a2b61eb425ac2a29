// What the collector refuses and how it says so: invalid fields and JSON, events too large or nested
// too deep, no site or an unknown write key, an origin not allowed, a content type it does not read,
// an unknown route or method.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInlet } from '../src/app/index.ts';
import { expectError, sharedCollectorInlet } from './collector-inlet.ts';
import {
  basicAuth,
  capturingLogger,
  queryApi,
  segmentMessage,
  tempDir,
  testConfig,
  WRITE_KEY,
} from './helpers.ts';

const { inlet, post } = sharedCollectorInlet();

describe('collector refusals', () => {
  it('400 names the first bad field, or the broken JSON', async () => {
    await expectError(
      await post('/v1/batch', { batch: [segmentMessage('x'), { type: 'track', userId: 'u' }] }),
      400,
      'INVALID_FIELD',
      'batch[1].event',
    );
    await expectError(await post('/v1/batch', '{"batch": ['), 400, 'INVALID_JSON');
    await expectError(
      await post('/v1/batch', { batch: [segmentMessage('big', { properties: { blob: 'x'.repeat(8000) } })] }),
      400,
      'EVENT_TOO_LARGE',
    );
    await expectError(
      await post('/v1/batch', Buffer.from('not gzip'), { 'content-encoding': 'gzip' }),
      400,
      'BAD_REQUEST',
      'gzip',
    );
  });

  it('a batch whose messages are all invalid, one too large, is refused by the first of them, named by its place in the batch', async () => {
    const big = segmentMessage('all-bad-big', { properties: { blob: 'x'.repeat(40_000) } });
    const first = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u' }, big] });
    expect(first.status).toBe(400);
    expect((await first.json()).error).toMatchObject({ code: 'INVALID_FIELD', field: 'batch[0].event' });
    const second = await post('/v1/batch', { batch: [big, { type: 'track', userId: 'u' }] });
    expect(second.status).toBe(400);
    expect((await second.json()).error).toMatchObject({ code: 'EVENT_TOO_LARGE', field: 'batch[0]' });
    const third = await post('/v1/batch', {
      batch: [{ type: 'track', userId: 'u' }, segmentMessage('ok-before-big'), big],
    });
    expect(third.status).toBe(400);
    expect((await third.json()).error).toMatchObject({ code: 'INVALID_FIELD', accepted: 1, refused: 2 });
    const fourth = await post('/v1/batch', {
      batch: [segmentMessage('ok-then-big'), big, { type: 'track', userId: 'u' }],
    });
    expect((await fourth.json()).error).toMatchObject({
      code: 'EVENT_TOO_LARGE',
      field: 'batch[1]',
      accepted: 1,
      refused: 2,
    });
    const fifth = await post('/v1/batch', {
      batch: [{ type: 'track', userId: 'u' }, segmentMessage('ok-then-big-2'), big],
    });
    expect((await fifth.json()).error.message).toContain('(and 1 more invalid message)');
  });

  it('an event too large is named as its protocol names its fields: e[i] for /collect, body for one message', async () => {
    const tracker = await post(
      '/collect',
      {
        k: WRITE_KEY,
        e: [
          { id: 'named-ok', t: 'page', a: 'anon', url: 'https://docs.example.com/' },
          { t: 'page', a: 'anon', p: { blob: 'x'.repeat(40_000) } },
        ],
      },
      { authorization: '' },
    );
    expect(tracker.status).toBe(400);
    const trackerError = (await tracker.json()).error;
    expect(trackerError).toMatchObject({ code: 'EVENT_TOO_LARGE', field: 'e[1]', accepted: 1 });
    expect(trackerError.message).toMatch(/^e\[1\]: the event is larger than limits\.event_bytes/);
    const single = await post(
      '/v1/track',
      segmentMessage('named-big', { properties: { blob: 'x'.repeat(40_000) } }),
    );
    expect(single.status).toBe(400);
    expect((await single.json()).error).toMatchObject({ code: 'EVENT_TOO_LARGE', field: 'body' });
  });

  it('a batch keeps its valid messages and answers 400 naming the first invalid one, as Segment drops only those', async () => {
    const big = segmentMessage('kept-big', { properties: { blob: 'x'.repeat(40_000) } });
    const response = await post('/v1/batch', {
      batch: [segmentMessage('kept-1'), { type: 'track', userId: 'u' }, big, segmentMessage('kept-2')],
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code: 'INVALID_FIELD', field: 'batch[1].event', accepted: 2, refused: 2 });
    expect(error.message).toContain(
      "(and 1 more invalid message); the batch's 2 other messages were accepted",
    );
    const tracker = await post(
      '/collect',
      {
        k: WRITE_KEY,
        e: [{ id: 'kept-3', t: 'page', a: 'anon', url: 'https://docs.example.com/' }, { t: 'nope' }],
      },
      { authorization: '' },
    );
    expect(tracker.status).toBe(400);
    expect(await tracker.json()).toMatchObject({ error: { field: 'e[1].t', accepted: 1, refused: 1 } });
    expect(
      await queryApi(
        inlet.url,
        "SELECT list(event_id ORDER BY event_id) AS ids FROM events WHERE event_id LIKE 'kept-%'",
      ),
    ).toEqual([{ ids: ['kept-1', 'kept-2', 'kept-3'] }]);
  });

  it('400 for properties or context nested deeper than 64 levels, which JSON.stringify cannot write back', async () => {
    // 5,000 levels in 10 KB: JSON.parse takes them, JSON.stringify overflows the stack (a 500 before).
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const message = (id: string, field: string, levels: number) =>
      `{"batch":[{"type":"track","event":"deep","messageId":"${id}","userId":"u","${field}":{"x":${nested(levels)}}}]}`;
    await expectError(
      await post('/v1/batch', message('deep-1', 'properties', 5000)),
      400,
      'INVALID_FIELD',
      'batch[0].properties: nests objects or arrays more than 64 levels deep',
    );
    await expectError(
      await post('/v1/batch', message('deep-2', 'context', 64)),
      400,
      'INVALID_FIELD',
      'batch[0].context',
    );
    await expectError(
      await post('/v1/identify', `{"userId":"u","traits":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`),
      400,
      'INVALID_FIELD',
      'body.traits',
    );
    await expectError(
      await post(
        '/collect',
        `{"k":"${WRITE_KEY}","e":[{"id":"deep-3","t":"track","n":"x","a":"a","p":{"x":${nested(5000)}}}]}`,
        { 'content-type': 'text/plain' },
      ),
      400,
      'INVALID_FIELD',
      'e[0].p',
    );
    // Plausible's revenue goes into properties too: nested so deep, it was a 500.
    await expectError(
      await post(
        '/api/event',
        `{"n":"Purchase","u":"https://docs.example.com/","d":"docs.example.com","$":{"amount":${nested(5000)},"currency":"EUR"}}`,
      ),
      400,
      'INVALID_FIELD',
      '$: nests objects or arrays',
    );
    await expectError(
      await post(
        '/api/event',
        `{"n":"Purchase","u":"https://docs.example.com/","d":"docs.example.com","revenue":{"amount":1,"currency":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}}`,
      ),
      400,
      'INVALID_FIELD',
      'revenue: nests objects or arrays',
    );
    const pixel = await fetch(
      `${inlet.url}/p.gif?k=${WRITE_KEY}&a=a&p=${encodeURIComponent(`{"x":${nested(1000)}}`)}`,
    );
    // The pixel's refusal is the pixel itself, the reason in headers (an <img> draws no JSON).
    expect(pixel.status).toBe(400);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(pixel.headers.get('x-inlet-error')).toBe('INVALID_FIELD');
    expect(decodeURIComponent(pixel.headers.get('x-inlet-error-message') ?? '')).toContain(
      'p: nests objects or arrays',
    );
    // 64 levels, the properties object itself counted, are kept whole.
    expect((await post('/v1/batch', message('deep-ok', 'properties', 63))).status).toBe(200);
    const [row] = await queryApi(
      inlet.url,
      "SELECT length(properties::VARCHAR)::INT AS n FROM events WHERE event_id = 'deep-ok'",
    );
    expect(row).toEqual({ n: `{"x":`.length + 63 * 2 + 1 });
  });

  it('400 naming the field for a number beyond a 64-bit float, which was stored as null', async () => {
    // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: the value was lost
    // with a 200. The message is left out of its batch, the others kept, as for any invalid field.
    const batch = await post(
      '/v1/batch',
      `{"batch":[{"type":"track","event":"huge","messageId":"inf-1","userId":"u","properties":{"ok":1,"n":1e400}},
                 {"type":"track","event":"huge","messageId":"inf-2","userId":"u","properties":{"n":1.5e300}}]}`,
    );
    expect(batch.status).toBe(400);
    expect(await batch.json()).toMatchObject({
      error: { code: 'INVALID_FIELD', field: 'batch[0].properties.n', accepted: 1, refused: 1 },
    });
    await expectError(
      await post(
        '/collect',
        `{"k":"${WRITE_KEY}","e":[{"id":"inf-3","t":"track","n":"x","a":"a","c":{"list":[1,-1e999]}}]}`,
        { 'content-type': 'text/plain' },
      ),
      400,
      'INVALID_FIELD',
      'e[0].c.list[1]: is a number beyond what a 64-bit float holds',
    );
    await expectError(
      await post(
        '/api/send',
        `{"type":"event","payload":{"website":"${WRITE_KEY}","url":"/a","hostname":"docs.example.com","data":{"a b":2e308}}}`,
      ),
      400,
      'INVALID_FIELD',
      'payload.data["a b"]',
    );
    await expectError(
      await post(
        '/api/event',
        '{"n":"pageview","u":"https://docs.example.com/","d":"docs.example.com","p":{"n":1e400}}',
      ),
      400,
      'INVALID_FIELD',
      'p.n: is a number beyond',
    );
    await expectError(
      await post(
        '/api/event',
        '{"n":"Purchase","u":"https://docs.example.com/","d":"docs.example.com","$":{"amount":[1e400],"currency":"EUR"}}',
      ),
      400,
      'INVALID_FIELD',
      '$.amount[0]: is a number beyond',
    );
    const pixel = await fetch(
      `${inlet.url}/p.gif?k=${WRITE_KEY}&a=a&id=inf-4&p=${encodeURIComponent('{"x":1e400}')}`,
    );
    expect(pixel.status).toBe(400);
    expect(decodeURIComponent(pixel.headers.get('x-inlet-error-message') ?? '')).toContain(
      'p.x: is a number',
    );
    expect(
      await queryApi(inlet.url, "SELECT event_id, properties FROM events WHERE event_id LIKE 'inf-%'"),
    ).toEqual([{ event_id: 'inf-2', properties: { n: 1.5e300 } }]);
  });

  it('says at start and in each 401 when no site is set up, so no write key can be known', async () => {
    // inlet start with no inlet.yaml runs on the defaults, which list no site: every event got
    // "Unknown write key; check the key against the sites", with no site to check it against. Read
    // from prod.yaml, the warning at start, and each 401, said no site was set up in inlet.yaml.
    const { dir, cleanup } = tempDir();
    const { logger, lines } = capturingLogger();
    const config = { ...testConfig(dir, { sites: [] }), configPath: join(dir, 'prod.yaml') };
    const bare = await startInlet({ config, logger });
    try {
      expect(lines.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
        expect.stringContaining('no site is set up in prod.yaml'),
      ]);
      const refused = await fetch(`${bare.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify(segmentMessage('no-site')),
      });
      await expectError(refused, 401, 'UNKNOWN_WRITE_KEY', 'No site is set up in prod.yaml');
    } finally {
      await bare.close();
      cleanup();
    }
  });

  it('says at start and in each 401 that no configuration file was read when no site is set up for want of one', async () => {
    // inlet start with no inlet.yaml warned "no site is set up in the configuration file", a file
    // the new user did not have and that the warning did not name.
    const { dir, cleanup } = tempDir();
    const { logger, lines } = capturingLogger();
    const bare = await startInlet({ config: testConfig(dir, { sites: [] }), logger });
    try {
      expect(lines.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
        'no site is set up, as no configuration file was read (no inlet.yaml in the working directory, nor --config), so the collector refuses every event (401 UNKNOWN_WRITE_KEY); create inlet.yaml with a site under sites: (an id and a write_key), and restart',
      ]);
      const refused = await fetch(`${bare.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify(segmentMessage('no-file')),
      });
      await expectError(
        refused,
        401,
        'UNKNOWN_WRITE_KEY',
        'No site is set up, as no configuration file was read, so no write key is known; create inlet.yaml with a site under sites: (an id and a write_key) and restart inlet.',
      );
    } finally {
      await bare.close();
      cleanup();
    }
  });

  it('401 without a write key or with an unknown one; 403 from an origin not allowed', async () => {
    await expectError(
      await post('/v1/batch', { batch: [segmentMessage('x')] }, { authorization: '' }),
      401,
      'MISSING_WRITE_KEY',
    );
    await expectError(
      await post('/v1/batch', { batch: [segmentMessage('x')] }, { authorization: basicAuth('wk_unknown_1') }),
      401,
      'UNKNOWN_WRITE_KEY',
    );
    // Each protocol says where it takes the key: the pixel, a GET, was told to send it "as writeKey
    // in the body, or as k", and /collect "as the HTTP Basic user name".
    const missing = async (response: Response) => {
      const text = decodeURIComponent(response.headers.get('x-inlet-error-message') ?? '');
      return [response.status, text || (await response.json()).error.message];
    };
    expect(await missing(await post('/v1/track', segmentMessage('no-key'), { authorization: '' }))).toEqual([
      401,
      'No write key: send it as the HTTP Basic user name (with an empty password), or as writeKey in the body (in the query for /beacon/v1/batch).',
    ]);
    const compact = { e: [{ t: 'page', a: 'anon-no-key' }] };
    expect(await missing(await post('/collect', compact, { authorization: '' }))).toEqual([
      401,
      'No write key: send it as k in the body, or in the query (/collect?k=<write key>).',
    ]);
    expect(await missing(await fetch(`${inlet.url}/p.gif?n=email_open`))).toEqual([
      401,
      'No write key: send it as k in the query (/p.gif?k=<write key>).',
    ]);
    // The scheme in any case, as HTTP has it and as POST /logs reads it: "basic" was "No write key".
    const credentials = basicAuth().slice('Basic '.length);
    const lower = await post(
      '/v1/batch',
      { batch: [segmentMessage('basic-lower')] },
      { authorization: `basic ${credentials}` },
    );
    const upper = await post('/v1/track', segmentMessage('basic-upper'), {
      authorization: `BASIC ${credentials}`,
    });
    expect([lower.status, upper.status]).toEqual([200, 200]);
    expect(
      await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id LIKE 'basic-%' ORDER BY 1"),
    ).toEqual([{ event_id: 'basic-lower' }, { event_id: 'basic-upper' }]);
    await expectError(
      await post('/v1/batch', { batch: [segmentMessage('x')] }, { origin: 'https://evil.example.com' }),
      403,
      'ORIGIN_NOT_ALLOWED',
      'https://evil.example.com',
    );
    // A page opened from file:// sends the origin null, which YAML reads as no value unless quoted:
    // told to "add it", a user who wrote null bare had inlet.yaml refused at start.
    const fromFile = await post('/v1/batch', { batch: [segmentMessage('x')] }, { origin: 'null' });
    expect([fromFile.status, (await fromFile.json()).error.message]).toEqual([
      403,
      'Origin null (a page opened from file:// or a sandboxed iframe) is not allowed for site docs; add "null", in quotes (YAML reads null bare as no value), to sites[].origins, which a new ./inlet.yaml can set.',
    ]);
  });
  it('415 for a content type or encoding it does not speak', async () => {
    // curl -d sends a form's type: the message names the type it got and the header to send.
    await expectError(
      await post('/v1/batch', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'UNSUPPORTED_CONTENT_TYPE',
      'Content-Type application/x-www-form-urlencoded is not read here; send Content-Type: application/json',
    );
    // fetch sends bytes with no Content-Type at all.
    await expectError(
      await fetch(`${inlet.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basicAuth() },
        body: new TextEncoder().encode(JSON.stringify(segmentMessage('untyped'))),
      }),
      415,
      'UNSUPPORTED_CONTENT_TYPE',
      'The request has no Content-Type header; send Content-Type: application/json',
    );
    await expectError(
      await post('/v1/batch', '{}', { 'content-encoding': 'br' }),
      415,
      'UNSUPPORTED_ENCODING',
    );
    // Read as UTF-8, a Latin-1 café was stored as caf\ufffd: another charset is refused by name.
    const latin1 = await fetch(`${inlet.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=ISO-8859-1', authorization: basicAuth() },
      body: Buffer.from(JSON.stringify(segmentMessage('latin1-1', { event: 'café' })), 'latin1'),
    });
    expect(latin1.status).toBe(415);
    expect(((await latin1.json()) as { error: { message: string } }).error.message).toContain(
      'charset=iso-8859-1; send the body as UTF-8',
    );
    // The media type is matched whole, not as a prefix: application/jsonp was read as JSON.
    for (const type of ['application/jsonp', 'text/plainx', 'application/json-patch+json'])
      await expectError(
        await post('/v1/track', segmentMessage(`prefix-${type}`), { 'content-type': type }),
        415,
        'UNSUPPORTED_CONTENT_TYPE',
        `Content-Type ${type} is not read here; send Content-Type: application/json`,
      );
    // An empty charset was answered "declares charset=;", which names nothing wrong.
    for (const type of ['application/json; charset=', 'application/json; charset=""'])
      await expectError(
        await post('/v1/track', segmentMessage('empty-charset'), { 'content-type': type }),
        415,
        'UNSUPPORTED_CONTENT_TYPE',
        'Content-Type has charset= with no name after it; send charset=utf-8, or leave charset out',
      );
    // sendBeacon's own type, a quoted UTF-8, any case and spaces before the parameters are read.
    for (const type of [
      'text/plain;charset=UTF-8',
      'application/json; charset="utf-8"',
      'Application/JSON ; charset=utf-8',
      'TEXT/PLAIN',
    ])
      expect(
        (await post('/v1/track', segmentMessage(`utf8-${type.length}`), { 'content-type': type })).status,
      ).toBe(200);
  });

  it('refuses a pixel parameter whose percent-escapes are no UTF-8, as a JSON body with such bytes is, naming it', async () => {
    // URLSearchParams read %E0%A4 (a Hindi letter cut short) and %E9 (é in Latin-1) as U+FFFD, and
    // the view was stored as "\ufffd" and "caf\ufffd", where a JSON body with those bytes is refused.
    const pixel = (query: string, method = 'GET') =>
      fetch(`${inlet.url}/p.gif?k=${WRITE_KEY}&${query}`, { method });
    for (const [query, message] of [
      [
        'n=%E0%A4&a=esc-1&id=esc-1',
        'n: holds %E0%A4, which is not text in UTF-8 (the page or template encoded it in another character set, or cut a character short); percent-encode the text as UTF-8, as encodeURIComponent does.',
      ],
      ['amp;ti=caf%E9&a=esc-2&id=esc-2', 'ti: holds %E9, which is not text in UTF-8'],
      ['id=esc-3&u=%ED%A0%80x', 'u: holds %ED%A0%80, which is not text in UTF-8'],
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const refused = await pixel(query as string, method);
        expect([
          refused.status,
          refused.headers.get('content-type'),
          refused.headers.get('x-inlet-error'),
        ]).toEqual([400, 'image/gif', 'INVALID_FIELD']);
        expect(decodeURIComponent(refused.headers.get('x-inlet-error-message') ?? '')).toContain(message);
      }
    }
    // UTF-8's own U+FFFD, a % that starts no escape (kept as it is), a bad escape in a parameter the
    // pixel does not read (a mail service's), or in a second k it does not take: the view is kept.
    for (const query of [
      'id=esc-ok-1&a=a&ti=%EF%BF%BD',
      'id=esc-ok-2&a=a&ti=100%&n=50%25%20off',
      'id=esc-ok-3&a=a&mc_eid=%E9',
      'id=esc-ok-4&a=a&id=%E9',
    ])
      expect([query, (await pixel(query)).status]).toEqual([query, 200]);
    expect(
      await queryApi(
        inlet.url,
        "SELECT event_id, name, title FROM events WHERE event_id LIKE 'esc-%' ORDER BY 1",
      ),
    ).toEqual([
      { event_id: 'esc-ok-1', name: null, title: '\ufffd' },
      { event_id: 'esc-ok-2', name: '50% off', title: '100%' },
      { event_id: 'esc-ok-3', name: null, title: null },
      { event_id: 'esc-ok-4', name: null, title: null },
    ]);
  });

  it('404 for an unknown route, 405 naming the methods for a known one asked with another, as JSON', async () => {
    await expectError(await fetch(`${inlet.url}/v2/nothing`), 404, 'NOT_FOUND');
    const batch = await fetch(`${inlet.url}/v1/batch`);
    expect(batch.headers.get('allow')).toBe('POST, OPTIONS');
    await expectError(batch, 405, 'METHOD_NOT_ALLOWED');
    const pixel = await fetch(`${inlet.url}/p.gif`, { method: 'POST', body: '' });
    expect(pixel.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    await expectError(pixel, 405, 'METHOD_NOT_ALLOWED');
    const query = await fetch(`${inlet.url}/api/query`);
    expect(query.headers.get('allow')).toBe('POST');
    await expectError(query, 405, 'METHOD_NOT_ALLOWED');
    // A path with a parameter in it is known too: it was "No route PUT /v1/projects/…/settings".
    const settings = await fetch(`${inlet.url}/v1/projects/${WRITE_KEY}/settings`, { method: 'PUT' });
    expect(settings.headers.get('allow')).toBe('GET');
    await expectError(settings, 405, 'METHOD_NOT_ALLOWED', 'does not take PUT; send GET');
    const cancel = await fetch(`${inlet.url}/api/query/q-1`, { method: 'GET' });
    expect(cancel.headers.get('allow')).toBe('DELETE');
    await expectError(cancel, 405, 'METHOD_NOT_ALLOWED');
    await expectError(await fetch(`${inlet.url}/v1/projects/${WRITE_KEY}/nothing`), 404, 'NOT_FOUND');
  });
});
