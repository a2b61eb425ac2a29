import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import {
  checkLine,
  createWalWriter,
  encodeRecord,
  encodeRecords,
  findBadRecords,
  listSegments,
  recoverSegment,
  scanLines,
  segmentPath,
  verifySegmentFile,
} from './index.ts';

const line = (n: number) => encodeRecord(JSON.stringify({ event_id: `e${n}`, n }));

describe('WAL records', () => {
  it('round-trips a record and detects a flipped byte', () => {
    const record = Buffer.from(line(1));
    const body = record.subarray(0, record.length - 1);
    const check = checkLine(body);
    expect(check.ok && JSON.parse(check.body.toString())).toEqual({ event_id: 'e1', n: 1 });
    const damaged = Buffer.from(body);
    damaged[damaged.length - 5] = 0x39;
    expect(checkLine(damaged)).toEqual({ ok: false, reason: 'checksum mismatch' });
  });

  it('is valid JSON a line, so DuckDB can read segments directly', () => {
    expect(JSON.parse(line(7))).toMatchObject({ e: { event_id: 'e7', n: 7 } });
  });
});

describe('WAL recovery', () => {
  it('truncates a torn tail and keeps every complete record', () => {
    const { dir, cleanup } = tempDir();
    const path = `${dir}/seg.log`;
    writeFileSync(path, line(1) + line(2) + line(3).slice(0, 20));
    const result = recoverSegment(path);
    expect(result).toEqual({ goodRecords: 2, truncatedBytes: 20, corruptRecords: 0 });
    expect(readFileSync(path, 'utf8')).toBe(line(1) + line(2));
    cleanup();
  });

  it('keeps a corrupt record in the middle for the loader to reject', () => {
    const { dir, cleanup } = tempDir();
    const path = `${dir}/seg.log`;
    const bad = line(2).replace('"n":2', '"n":9');
    writeFileSync(path, line(1) + bad + line(3));
    expect(recoverSegment(path)).toEqual({ goodRecords: 2, truncatedBytes: 0, corruptRecords: 1 });
    expect([...scanLines(readFileSync(path))].map((l) => l.check.ok)).toEqual([true, false, true]);
    cleanup();
  });
});

describe('WAL writer', () => {
  it('shares one fsync among appends that arrive together', async () => {
    const { dir, cleanup } = tempDir();
    let fsyncs = 0;
    const wal = createWalWriter({ dir, segmentBytes: 1 << 20, maxBytes: 1 << 30, onFsync: () => fsyncs++ });
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(line(i))));
    expect(fsyncs).toBeLessThan(200);
    expect(fsyncs).toBeGreaterThan(0);
    await wal.close();
    const [segment] = listSegments(dir);
    expect(
      [...scanLines(readFileSync(segmentPath(dir, segment as number)))].filter((l) => l.check.ok),
    ).toHaveLength(200);
    cleanup();
  });

  it('rotates segments by size and on seal, and starts after existing ones when reopened', async () => {
    const { dir, cleanup } = tempDir();
    const wal = createWalWriter({ dir, segmentBytes: 200, maxBytes: 1 << 30 });
    for (let i = 0; i < 12; i++) await wal.append(line(i));
    expect(wal.sealedSegments().length).toBeGreaterThanOrEqual(2);
    await wal.append(line(99));
    await wal.seal();
    const sealed = wal.sealedSegments();
    await wal.close();
    const reopened = createWalWriter({ dir, segmentBytes: 200, maxBytes: 1 << 30 });
    expect(reopened.sealedSegments().length).toBeGreaterThanOrEqual(sealed.length);
    expect(Math.min(...reopened.sealedSegments())).toBe(Math.min(...sealed));
    await reopened.close();
    cleanup();
  });

  it('refuses with WAL_FULL once max_bytes is reached', async () => {
    const { dir, cleanup } = tempDir();
    const wal = createWalWriter({ dir, segmentBytes: 1 << 20, maxBytes: 300 });
    await wal.append(line(1));
    await wal.append(line(2));
    await expect(wal.append('x'.repeat(300))).rejects.toMatchObject({ code: 'WAL_FULL', status: 503 });
    await wal.close();
    cleanup();
  });

  it('repairs a torn segment on open', async () => {
    const { dir, cleanup } = tempDir();
    const wal = createWalWriter({ dir, segmentBytes: 1 << 20, maxBytes: 1 << 30 });
    await wal.append(line(1));
    await wal.close();
    const [segment] = listSegments(dir);
    const path = segmentPath(dir, segment as number);
    appendFileSync(path, '{"c":"0000');
    const repaired: number[] = [];
    const reopened = createWalWriter({
      dir,
      segmentBytes: 1 << 20,
      maxBytes: 1 << 30,
      onRecovered: (s) => repaired.push(s),
    });
    expect(repaired).toEqual([segment]);
    expect(statSync(path).size).toBe(Buffer.byteLength(line(1)));
    await reopened.close();
    cleanup();
  });
});

describe('encodeRecords', () => {
  it('frames many bodies, with Japanese and emoji, exactly as encodeRecord does one by one', () => {
    const bodies = ['{"a":1}', '{"t":"講義を視聴 🎬"}', '{}'];
    expect(encodeRecords(bodies).toString('utf8')).toBe(bodies.map(encodeRecord).join(''));
    expect([...scanLines(encodeRecords(bodies))].every((l) => l.check.ok)).toBe(true);
  });
});

describe('verifySegmentFile', () => {
  it('finds the same bad records reading in small chunks as in one piece', async () => {
    const { dir, cleanup } = tempDir();
    const path = `${dir}/seg.log`;
    const bad = line(2).replace('"n":2', '"n":9');
    const content = line(1) + bad + line(3) + line(4).slice(0, 25);
    writeFileSync(path, content);
    const whole = findBadRecords(Buffer.from(content));
    expect(whole.map((r) => r.reason)).toEqual(['checksum mismatch', 'torn']);
    for (const chunk of [7, 64, 1 << 20])
      expect(await verifySegmentFile(path, { chunkBytes: chunk })).toEqual({ lines: 3, bad: whole });
    cleanup();
  });
});
