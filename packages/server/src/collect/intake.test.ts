import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { segmentMessage, tempDir, testConfig, WRITE_KEY } from '../../test/helpers.ts';
import { createMetrics } from '../metrics/index.ts';
import { createWalWriter } from '../wal/index.ts';
import { createEnricher } from './enrich/index.ts';
import { createIntake, createRecordEncoder } from './intake.ts';
import { parseSegment } from './protocols/segment.ts';

const cleanups = cleanupAfterEach();

function encoder() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  // The default limits.event_bytes, 32 KB, as Segment's.
  const config = testConfig(dir);
  return createRecordEncoder({ config, enrich: createEnricher({ saltDir: join(dir, 'salts') }) });
}

const meta = () => ({ receivedAt: Date.now(), ip: '203.0.113.5', userAgent: undefined, origin: undefined });

/** A Segment track message of exactly `bytes` bytes of JSON, as an SDK sends it, its padding in properties. */
function messageOf(bytes: number, overrides: Record<string, unknown> = {}) {
  const properties = { blob: '' };
  const message = segmentMessage('sized', { ...overrides, properties });
  properties.blob = 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(message)));
  expect(Buffer.byteLength(JSON.stringify(message))).toBe(bytes);
  return message;
}

describe('the size of an event (limits.event_bytes)', () => {
  it('takes a message under 32 KB as sent whose page url the record holds again, as its url, path and referrer', () => {
    const long = `https://docs.example.com/${'a'.repeat(1200)}?q=${'b'.repeat(1200)}`;
    const message = messageOf(30_000, {
      context: { page: { url: long, path: `/${'a'.repeat(1200)}`, referrer: long, title: 'Docs' } },
    });
    const prepared = encoder().prepare(parseSegment(message, 'track'), meta(), WRITE_KEY);
    expect(prepared.count).toBe(1);
  });

  it('refuses a message larger than 32 KB as sent, and one whose copied columns pass their 16 KB allowance', () => {
    const encode = encoder();
    const refused = /^body: the event is larger than limits\.event_bytes \(32768 bytes\)/;
    expect(() => encode.prepare(parseSegment(messageOf(36_000), 'track'), meta(), WRITE_KEY)).toThrow(
      refused,
    );
    // url, path and referrer of 9,000 characters each: the loader's memory is sized for records
    // with at most 16 KB of such copies.
    const page = `/${'a'.repeat(9000)}`;
    const copies = messageOf(30_000, {
      context: { page: { url: `https://docs.example.com${page}`, path: page, referrer: page } },
    });
    expect(() => encode.prepare(parseSegment(copies, 'track'), meta(), WRITE_KEY)).toThrow(refused);
  });
});

describe('a batch with messages left out', () => {
  it('says the others were accepted in one sentence after a refusal that ends with a period', async () => {
    const { dir, cleanup } = tempDir();
    const wal = createWalWriter({ dir: join(dir, 'wal'), segmentBytes: 1 << 20, maxBytes: 1 << 30 });
    cleanups.push(cleanup, () => wal.close());
    const intake = createIntake({
      config: testConfig(dir),
      wal,
      enrich: createEnricher({ saltDir: join(dir, 'salts') }),
      metrics: createMetrics(),
    });
    const batch = { batch: [segmentMessage('kept'), messageOf(40_000)] };
    const answer = await intake.accept(parseSegment(batch, undefined), meta(), WRITE_KEY).catch((e) => e);
    expect(answer).toMatchObject({ code: 'EVENT_TOO_LARGE', details: { accepted: 1, refused: 1 } });
    expect(answer.message).toMatch(
      /^batch\[1\]: the event is larger than limits\.event_bytes \(32768 bytes\); send less in properties or context; the batch's 1 other message was accepted\. /,
    );
  });
});
