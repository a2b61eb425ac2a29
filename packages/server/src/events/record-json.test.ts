import { describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, type EventRecord } from './index.ts';
import { serializeEventRecord } from './record-json.ts';

const base: EventRecord = {
  event_id: 'e-1',
  site: 'docs',
  type: 'track',
  name: 'signup',
  ts: '2026-11-20T10:00:00.000Z',
  received_at: '2026-11-20T10:00:01.000Z',
  anonymous_id: 'a',
  device_type: 'desktop',
  is_bot: false,
  dt: '2026-11-20',
};

const tricky = [
  'plain',
  'quote " and backslash \\',
  'new\nline\ttab\r\u0000\u001f',
  '日本語 and emoji 😀',
  'lone \ud800 surrogate',
  'trailing \udc00',
  '</script>',
  '',
];

/** JSON.stringify of the record with its keys in table order, the order the lake's columns have. */
const canonical = (record: EventRecord) =>
  JSON.stringify(Object.fromEntries(EVENT_COLUMNS.map(([name]) => [name, record[name]])));

describe('serializeEventRecord', () => {
  it('writes what JSON.stringify writes, keys in table order, for every field and awkward strings', () => {
    for (const value of tricky) {
      const record: EventRecord = {
        ...base,
        event_id: `id ${value}`,
        name: value,
        user_id: value,
        session_id: value,
        url: `https://d.example/${value}`,
        path: value,
        referrer: value,
        title: value,
        utm_source: value,
        utm_medium: value,
        utm_campaign: value,
        utm_term: value,
        utm_content: value,
        browser: value,
        os: value,
        // inlet's own values (site, types, times, the hex visitor hash) are written without the escape check.
        visitor_hash: '9f86d081884c7d659a2feaa0c55ad015',
        is_bot: true,
        properties: { value, nested: [1, { value }] },
        context: { page: { title: value } },
      };
      expect(serializeEventRecord(record)).toBe(canonical(record));
      expect(JSON.parse(serializeEventRecord(record))).toEqual(JSON.parse(JSON.stringify(record)));
    }
    expect(serializeEventRecord(base)).toBe(canonical(base));
  });
});
