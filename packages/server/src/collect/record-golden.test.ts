import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { tempDir } from '../../test/helpers.ts';
import { serializeEventRecord } from '../events/index.ts';
import { createEnricher } from './enrich/index.ts';
import { parseInletBatch } from './protocols/inlet.ts';
import { parseSegment } from './protocols/segment.ts';

// The records and errors of a varied set of Segment messages, against what the collector wrote for
// them before its parsing and enrichment were changed to allocate less per event
// (fixtures/segment-records.ndjson, fixtures/segment-errors.ndjson): byte for byte the same.
// INLET_WRITE_GOLDEN=1 writes the fixtures anew; only do that where the output is meant to change.

const cleanups = cleanupAfterEach();
const NOW = Date.parse('2026-12-07T08:00:00.000Z');
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

const page = {
  url: 'https://docs.example.com/start?utm_source=news',
  path: '/start',
  referrer: '$direct',
  title: 'Start',
};
const batches: Array<{ body: unknown; type?: 'track' | 'page' | 'identify' }> = [
  {
    body: {
      sentAt: '2026-12-07T07:59:59.000Z',
      batch: [
        {
          type: 'track',
          event: 'Signed Up',
          userId: 'u1',
          messageId: 'm1',
          timestamp: '2026-12-07T07:59:58.000Z',
          properties: { plan: 'pro', n: 3, nested: { a: [1, 'x', null] } },
          context: { page, ip: '198.51.100.7', userAgent: UA, library: { name: 'analytics.js' } },
        },
        {
          type: 'Page',
          anonymousId: 'a1',
          messageId: 'm2',
          name: 'Start',
          category: 'Docs',
          properties: { url: 'https://docs.example.com/p', title: 'P "quoted" \u2028 é' },
          context: { ip: '198.51.100.8' },
        },
        {
          type: 'screen',
          userId: 'u2',
          name: 'Settings',
          category: 'Account',
          context: { ip: '198.51.100.8', device: { type: 'ios' } },
        },
        {
          type: 'identify',
          userId: 'u3',
          traits: { email: 'u3@example.com' },
          context: { traits: { ignored: true }, ip: '2001:db8::1' },
        },
        { type: 'identify', anonymousId: 'a4', context: { traits: { name: 'from context' }, userAgent: UA } },
        {
          type: 'group',
          userId: 'u5',
          groupId: 'g5',
          traits: { size: 10 },
          originalTimestamp: 1_765_094_000,
        },
        { type: 'alias', userId: 'u6', previousId: 'a6', timestamp: 1_765_094_000_000 },
        {
          type: 'track',
          event: 'Product Clicked',
          anonymousId: 'a7',
          properties: { url: 'https://shop.example.com/p/1', session_id: 's7' },
          context: {
            page: { url: 'https://shop.example.com/list', title: 'List' },
            campaign: { source: 'mail', name: 'winter' },
          },
        },
        {
          type: 'page',
          userId: 'u8',
          properties: { path: '/pricing', search: '?plan=pro' },
          context: { ip: '203.0.113.9' },
        },
        { type: 'track', event: 'Only IP', userId: 'u9', context: { ip: '203.0.113.10' } },
        {
          type: 'track',
          event: 'Ip last',
          userId: 'u10',
          context: { a: 1, b: { ip: 'kept, not top level' }, ip: '203.0.113.11' },
        },
        {
          type: 'track',
          event: 'Emoji 😀 \ud83d',
          userId: 123,
          anonymousId: 456,
          sessionId: 7,
          context: { sessionId: 'ctx-session', locale: 'de-DE' },
        },
        {
          type: 'page',
          anonymousId: 'a12',
          properties: { title: 't'.repeat(2100) },
          context: { hash_routing: true, page: { url: 'https://app.example.com/#/route?x=1' } },
        },
      ],
    },
  },
  {
    body: {
      context: { ip: '192.0.2.1', library: { name: 'rudder' }, page: { url: 'https://shared.example.com/' } },
      batch: [
        {
          type: 'track',
          event: 'Shared',
          userId: 'u20',
          context: { page: { url: 'https://own.example.com/' } },
        },
        { type: 'track', event: 'Shared 2', anonymousId: 'a21' },
        { type: 'page', anonymousId: 'a22', context: { ip: '192.0.2.2' } },
      ],
    },
  },
  {
    body: { event: 'Single', userId: 'u30', context: { ip: '192.0.2.30', page }, writeKey: 'wk' },
    type: 'track',
  },
  { body: { userId: 'u31', properties: { url: 'https://docs.example.com/x' } }, type: 'page' },
];

const invalid: unknown[] = [
  'not an object',
  { type: 'nonsense', userId: 'u' },
  { type: 7, userId: 'u' },
  { event: 'e', type: 'track' },
  { type: 'track', userId: 'u' },
  { type: 'track', userId: 'u', event: 5 },
  { type: 'track', userId: 'u', event: 'e', context: 'ctx' },
  { type: 'track', userId: 'u', event: 'e', context: { page: 'p' } },
  { type: 'track', userId: 'u', event: 'e', context: { page: { url: 5 } } },
  { type: 'track', userId: 'u', event: 'e', context: { page: { title: { a: 1 } } } },
  { type: 'page', userId: 'u', properties: { referrer: ['x'] } },
  { type: 'track', userId: 'u', event: 'e', properties: 'p' },
  { type: 'track', userId: 'u', event: 'e', properties: { deep: { big: Number.POSITIVE_INFINITY } } },
  {
    type: 'track',
    userId: 'u',
    event: 'e',
    context: { deep: { deeper: { n: [1, 2, Number.POSITIVE_INFINITY] } } },
  },
  { type: 'identify', userId: 'u', traits: [1] },
  { type: 'identify', userId: 'u', context: { traits: 'x' } },
  { type: 'track', userId: 'x'.repeat(201), event: 'e' },
  { type: 'track', anonymousId: { a: 1 }, event: 'e' },
  { type: 'track', userId: 'u', event: 'e', messageId: 2 ** 53 + 2 },
  { type: 'track', userId: 'u', event: 'e', timestamp: 'yesterday' },
  { type: 'track', userId: 'u', event: 'e', originalTimestamp: '2026-02-30T00:00:00Z' },
  { type: 'track', userId: 'u', event: 'e', sentAt: -5 },
  { type: 'track', userId: 'u', event: 'e', context: { sessionId: { id: 1 } } },
  { type: 'track', userId: 'u', event: 'e', properties: { session_id: [1] } },
  { type: 'track', userId: 'u', event: 'e', context: { campaign: 'c' } },
  { type: 'track', userId: 'u', event: 'e', context: { userAgent: 5 } },
  { type: 'track', userId: 'u', event: 'e', context: { ip: 'x'.repeat(101) } },
  { type: 'page', userId: 'u', name: ['n'] },
  { type: 'page', userId: 'u', category: { big: Number.POSITIVE_INFINITY } },
  { type: 'group', userId: 'u' },
  { type: 'group', userId: 'u', groupId: true },
  { type: 'alias', userId: 'u' },
  { type: 'track', userId: 'u', event: 'e', context: { page: { url: {} } } },
  { type: 'track', userId: 'u', event: 'e', context: { userAgent: {} } },
  {
    type: 'page',
    userId: 'u',
    properties: { url: 'https://x.example/' },
    context: { page: { referrer: [] } },
  },
  {
    type: 'track',
    userId: 'u',
    event: 'e',
    properties: { deep: JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) },
  },
  { type: 'Track', userId: 'u', event: 'e', originalTimestamp: '2026-12-07T07:00:00Z', timestamp: {} },
];

function records(): string[] {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const saltDir = join(dir, 'salts');
  mkdirSync(saltDir);
  // A fixed salt, so that the visitor hashes are those of the fixture.
  writeFileSync(join(saltDir, '2026-12-07.salt'), Buffer.alloc(32, 7));
  const enrich = createEnricher({ saltDir, now: () => NOW });
  const meta = {
    receivedAt: NOW,
    ip: '203.0.113.200',
    userAgent: 'node',
    origin: 'https://docs.example.com',
  };
  return batches.flatMap(({ body, type }) =>
    parseSegment(body, type).events.map((event) => serializeEventRecord(enrich('docs', event, meta))),
  );
}

/** The error parse throws, or the one it leaves the batch's first refused message with. */
function errorOf(parse: () => { refused?: { error: unknown } }): unknown {
  try {
    return parse().refused?.error;
  } catch (error) {
    return error;
  }
}

const said = (error: unknown) => {
  if (error === undefined) return 'accepted';
  const { message, details } = error as { message: string; details: unknown };
  return [message, details];
};

function errors(): string[] {
  const { refused } = parseSegment(
    { batch: [{ type: 'track', userId: 'u', event: 'ok' }, ...invalid] },
    undefined,
  );
  const each = invalid.map((message, i) =>
    JSON.stringify({
      i,
      batch: said(errorOf(() => parseSegment({ batch: [message] }, undefined))),
      single: said(errorOf(() => parseSegment(message, 'track'))),
    }),
  );
  return [
    JSON.stringify({ first: said(refused?.error), count: refused?.count, index: refused?.index }),
    ...each,
  ];
}

// Events of inlet's own format (the tracker's), each invalid in one field.
const invalidInlet: unknown[] = [
  7,
  { t: 'view', a: 'a' },
  { t: 'track', a: 'a' },
  { t: 'page', n: ['n'], a: 'a' },
  { t: 'page' },
  { t: 'page', a: { a: 1 } },
  { t: 'page', u: 'u'.repeat(201) },
  { t: 'page', a: 'a', id: 2 ** 53 + 2 },
  { t: 'page', a: 'a', ts: 'soon' },
  { t: 'page', a: 'a', s: [1] },
  { t: 'page', a: 'a', url: 5.5, ref: {} },
  { t: 'page', a: 'a', ti: 't'.repeat(2001) },
  { t: 'page', a: 'a', p: [1] },
  { t: 'page', a: 'a', c: { deep: { n: Number.NEGATIVE_INFINITY } } },
];

function inletErrors(): string[] {
  const { refused } = parseInletBatch({ k: 'wk', e: [{ t: 'page', a: 'a' }, ...invalidInlet] });
  const each = invalidInlet.map((event, i) =>
    JSON.stringify({ i, batch: said(errorOf(() => parseInletBatch({ e: [event] }))) }),
  );
  return [
    JSON.stringify({ first: said(refused?.error), count: refused?.count, index: refused?.index }),
    ...each,
  ];
}

describe('the records and errors of Segment messages', () => {
  for (const [name, make] of [
    ['segment-records.ndjson', records],
    ['segment-errors.ndjson', errors],
    ['inlet-errors.ndjson', inletErrors],
  ] as const) {
    it(`are those of ${name}, byte for byte`, () => {
      const lines = make();
      if (process.env.INLET_WRITE_GOLDEN === '1') writeFileSync(fixture(name), `${lines.join('\n')}\n`);
      expect(lines).toEqual(readFileSync(fixture(name), 'utf8').trimEnd().split('\n'));
    });
  }
});
