import {
  appendFileSync,
  linkSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { stdoutOf } from '../../test/child-processes.ts';
import { capturingLogger, tempDir } from '../../test/helpers.ts';
import {
  checkLine,
  createWalWriter,
  type DeletedSegment,
  encodeRecord,
  encodeRecords,
  findBadRecords,
  listSegments,
  recoverSegment,
  scanLines,
  segmentPath,
  verifySegmentFile,
  type WalWriterOptions,
  walWritableLogger,
  withoutLoneSurrogates,
} from './index.ts';

const line = (n: number) => encodeRecord(JSON.stringify({ event_id: `e${n}`, n }));

/**
 * A WAL writer in a new temporary folder (its wal/ subfolder with inFolder, for the tests that
 * remove the folder), of 1 MB segments and 1 GB in all unless options say otherwise; the deleted
 * segments it reports are collected in deleted; before puts files in the folder before the writer opens it.
 */
function openWal(
  options: Partial<WalWriterOptions> & { inFolder?: boolean; before?: (dir: string) => void } = {},
) {
  const { inFolder, before, ...writer } = options;
  const temp = tempDir();
  const dir = inFolder ? join(temp.dir, 'wal') : temp.dir;
  before?.(dir);
  const deleted: DeletedSegment[] = [];
  const wal = createWalWriter({
    dir,
    segmentBytes: 1 << 20,
    maxBytes: 1 << 30,
    onSegmentDeleted: (info) => deleted.push(info),
    ...writer,
  });
  return { dir, wal, deleted, cleanup: temp.cleanup };
}

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

  it('keeps a complete record with a bad checksum at the end, and truncates only a torn line after it', () => {
    const { dir, cleanup } = tempDir();
    const path = `${dir}/seg.log`;
    const bad = line(2).replace('"n":2', '"n":9');
    writeFileSync(path, line(1) + bad + line(3).slice(0, 20));
    expect(recoverSegment(path)).toEqual({ goodRecords: 1, truncatedBytes: 20, corruptRecords: 1 });
    expect(readFileSync(path, 'utf8')).toBe(line(1) + bad);
    writeFileSync(path, line(1) + bad);
    expect(recoverSegment(path)).toEqual({ goodRecords: 1, truncatedBytes: 0, corruptRecords: 1 });
    expect(findBadRecords(readFileSync(path))).toEqual([
      { start: line(1).length, end: line(1).length + bad.length, reason: 'checksum mismatch' },
    ]);
    cleanup();
  });

  it('truncates a torn tail only in the last segment; a sealed one keeps it for the loader to reject', async () => {
    // A sealed segment whose last record's newline was damaged lost that whole acknowledged record
    // at the next start, kept nowhere: only the segment open at a crash can end in a cut-short write.
    const damaged = line(2).replace(/\n$/, 'x');
    const { dir, wal, cleanup } = openWal({
      before: (dir) => {
        writeFileSync(segmentPath(dir, 1), line(1) + damaged);
        writeFileSync(segmentPath(dir, 2), line(3) + line(4).slice(0, 20));
      },
    });
    await wal.close();
    expect(readFileSync(segmentPath(dir, 1), 'utf8')).toBe(line(1) + damaged);
    expect(readFileSync(segmentPath(dir, 2), 'utf8')).toBe(line(3));
    expect(findBadRecords(readFileSync(segmentPath(dir, 1))).map((r) => r.reason)).toEqual(['torn']);
    cleanup();
  });
});

describe('WAL writer', () => {
  it('opens when a segment goes between its listing and its recovery (a loader in another process deleted it)', async () => {
    const { dir, cleanup } = tempDir();
    writeFileSync(segmentPath(dir, 1), line(1));
    // A name that lists but whose file is gone when read: what a segment deleted between the two leaves.
    symlinkSync(join(dir, 'loaded-and-deleted'), segmentPath(dir, 2));
    const wal = createWalWriter({ dir, segmentBytes: 1 << 20, maxBytes: 1 << 20 });
    await wal.append(line(3));
    expect(wal.bytes()).toBe(line(1).length + line(3).length);
    await wal.close();
    expect(readFileSync(segmentPath(dir, 3), 'utf8')).toBe(line(3));
    cleanup();
  });

  it('passes over a name that is no segment, even of 16 digits, naming it, and writes where loaders look', async () => {
    // 9999999999999999.log read as id 1e16: the writer's next segment was 10000000000000000.log, a
    // name no listing found, so what it took was never loaded, and every later start appended there.
    const strays: string[] = [];
    const { dir, wal, cleanup } = openWal({
      before: (dir) => {
        writeFileSync(segmentPath(dir, 1), line(1));
        for (const name of ['9999999999999999.log', 'garbage.log', '0000000000000001.log.bak'])
          writeFileSync(join(dir, name), line(2));
      },
      onStraySegment: (path) => strays.push(path),
    });
    await wal.append(line(3));
    await wal.close();
    expect(listSegments(dir)).toEqual([1, 2]);
    expect(readFileSync(segmentPath(dir, 2), 'utf8')).toBe(line(3));
    expect(strays).toEqual([join(dir, '9999999999999999.log'), join(dir, 'garbage.log')]);
    cleanup();
  });

  it('shares one fsync among appends that arrive together', async () => {
    let fsyncs = 0;
    const { dir, wal, cleanup } = openWal({ onFsync: () => fsyncs++ });
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(line(i))));
    // All 200 come in one turn of the event loop, before the first write: one fsync covers them on
    // any machine, however busy (fewer than 200, as this said before, let 199 pass).
    expect(fsyncs).toBe(1);
    await wal.close();
    const [segment] = listSegments(dir);
    expect(
      [...scanLines(readFileSync(segmentPath(dir, segment as number)))].filter((l) => l.check.ok),
    ).toHaveLength(200);
    cleanup();
  });

  it('writes appends that arrive together byte for byte in their order, more of them than one writev takes', async () => {
    const { dir, wal, cleanup } = openWal();
    // 3,000 requests' records in one write, past the 1,024 buffers (IOV_MAX) a writev takes, of
    // sizes that differ, one of them empty (a batch whose messages were all refused).
    const appends = Array.from({ length: 3000 }, (_, i) =>
      i === 7
        ? Buffer.alloc(0)
        : Buffer.from(Array.from({ length: 1 + (i % 5) }, (_, j) => line(i * 10 + j)).join('')),
    );
    await Promise.all(appends.map((records) => wal.append(records)));
    await wal.close();
    const [segment] = listSegments(dir);
    expect(readFileSync(segmentPath(dir, segment as number)).equals(Buffer.concat(appends))).toBe(true);
    cleanup();
  });

  it('rotates segments by size and on seal, and starts after existing ones when reopened', async () => {
    const { dir, wal, cleanup } = openWal({ segmentBytes: 200 });
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
    const { wal, cleanup } = openWal({ maxBytes: 300 });
    await wal.append(line(1));
    await wal.append(line(2));
    await expect(wal.append('x'.repeat(300))).rejects.toMatchObject({ code: 'WAL_FULL', status: 503 });
    await wal.close();
    cleanup();
  });

  it('refuses a request larger than all of max_bytes as too large, not as full: waiting would not help', async () => {
    const { wal, cleanup } = openWal({ maxBytes: 300 });
    await expect(wal.append('x'.repeat(301))).rejects.toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
    await wal.append(line(1));
    await wal.close();
    cleanup();
  });

  it('counts max_bytes in bytes, not characters: multi-byte text is not undercounted', async () => {
    const { wal, cleanup } = openWal({ maxBytes: 300 });
    // 200 characters, 400 bytes of UTF-8.
    await expect(wal.append('é'.repeat(200))).rejects.toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
    await wal.append('é'.repeat(100));
    await expect(wal.append('é'.repeat(60))).rejects.toMatchObject({ code: 'WAL_FULL', status: 503 });
    await wal.close();
    cleanup();
  });

  it('shares max_bytes with another WAL: together they never hold more than it', async () => {
    const events = openWal({ maxBytes: 300 });
    const logs = openWal({ maxBytes: 300, sharedBytes: () => events.wal.bytes() });
    await events.wal.append('x'.repeat(200));
    await expect(logs.wal.append('y'.repeat(150))).rejects.toMatchObject({ code: 'WAL_FULL', status: 503 });
    expect(logs.wal.full()).toBe(true);
    await logs.wal.append('y'.repeat(100));
    for (const { wal, cleanup } of [events, logs]) {
      await wal.close();
      cleanup();
    }
  });

  it('does not count loaded segments kept for readers toward max_bytes: the loader is not behind', async () => {
    const loaded = new Set<string>();
    const { dir, wal, cleanup } = openWal({ maxBytes: 300, loaded: (p) => loaded.has(p) });
    await wal.append(`${'y'.repeat(199)}\n`);
    await wal.seal();
    await expect(wal.append('x'.repeat(200))).rejects.toMatchObject({ code: 'WAL_FULL' });
    // The loader has loaded the sealed segment; a long query or model build still reads it.
    for (const segment of wal.sealedSegments()) loaded.add(segmentPath(dir, segment));
    wal.refresh();
    expect(wal.bytes()).toBe(0);
    await wal.append('x'.repeat(200));
    await wal.close();
    cleanup();
  });

  it('repairs a torn segment on open', async () => {
    const { dir, wal, cleanup } = openWal();
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

/**
 * Runs test/fixtures/wal/refused-writes.ts under a file size limit in KB (ulimit -f), SIGXFSZ
 * ignored, with `together` appends at a time (in one write).
 */
async function underFileSizeLimit(kb: number, appends: number, freeBytes?: number, together = 1) {
  const { dir, cleanup } = tempDir();
  const script = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'wal', 'refused-writes.ts');
  try {
    const out = await stdoutOf(
      'bash',
      [
        '-c',
        `trap '' XFSZ; ulimit -f ${kb}; exec "$0" --import tsx "$@"`,
        process.execPath,
        script,
        join(dir, 'wal'),
        String(appends),
        String(freeBytes ?? ''),
        String(together),
      ],
      { cwd: join(import.meta.dirname, '..', '..') },
    );
    return JSON.parse(out) as {
      acknowledged: string[];
      refused: string[];
      changes: string[];
      probe: boolean;
      segments: Array<{ id: number; bad: number; ids: string[] }>;
      files: string[];
    };
  } finally {
    cleanup();
  }
}

describe('WAL writer when the disk refuses writes', { timeout: 60_000 }, () => {
  it('cuts a write refused part-way back to whole records, and goes on in a new segment', async () => {
    // 64 KB a file: the tenth append of ten ~700-byte records crosses it part-way through a record.
    const run = await underFileSizeLimit(64, 20);
    expect(run.refused.length).toBeGreaterThan(0);
    expect(run.refused[0]).toContain('WAL_UNAVAILABLE');
    expect(run.refused[0]).toContain('file size limit');
    expect(run.segments.length).toBeGreaterThan(1);
    // No torn or partial record anywhere, and exactly the acknowledged records: nothing of a refused append.
    expect(run.segments.every((segment) => segment.bad === 0)).toBe(true);
    expect(run.segments.flatMap((segment) => segment.ids)).toEqual(run.acknowledged);
    expect(run.changes.slice(0, 2)).toEqual(['EFBIG', 'works']);
  });

  it('cuts a write of several requests refused part-way back to whole records, written apart as they came', async () => {
    // Four appends of ten ~700-byte records in each write: the third write crosses 64 KB part-way.
    const run = await underFileSizeLimit(64, 20, undefined, 4);
    expect(run.refused.length).toBeGreaterThan(0);
    expect(run.refused[0]).toContain('file size limit');
    expect(run.segments.every((segment) => segment.bad === 0)).toBe(true);
    expect(run.segments.flatMap((segment) => segment.ids)).toEqual(run.acknowledged);
    expect(run.acknowledged.length).toBeGreaterThanOrEqual(80);
  });

  it('leaves one segment file, not one per refused append, when every write is refused; the probe says so', async () => {
    const run = await underFileSizeLimit(0, 30);
    expect(run.acknowledged).toEqual([]);
    expect(run.refused).toHaveLength(30);
    expect(run.files.filter((name) => name.endsWith('.log'))).toHaveLength(1);
    expect(run.files).not.toContain('.probe');
    expect(run.probe).toBe(false);
    // One change reported for the whole outage, for one log line.
    expect(run.changes).toEqual(['EFBIG']);
  });

  it('probes its way back only with 1 MB free, even with wal.min_free_bytes off', async () => {
    // A probe's 4 KB fit under the limit of 64 KB a file; the disk it is told of has 512 KB free.
    expect((await underFileSizeLimit(64, 20, 512 * 1024)).probe).toBe(false);
    expect((await underFileSizeLimit(64, 20, 2 * 1024 * 1024)).probe).toBe(true);
  });

  it('refuses appends that would leave less than min_free_bytes free, until space returns', async () => {
    const MB = 1024 * 1024;
    let free = 70 * MB;
    const changes: unknown[] = [];
    const { wal, cleanup } = openWal({
      segmentBytes: 64 * MB,
      maxBytes: 2 ** 40,
      minFreeBytes: 64 * MB,
      freeBytes: () => free,
      onWritableChange: (error) =>
        changes.push(error === undefined ? 'works' : (error as { code: string }).code),
    });
    const chunk = encodeRecord(JSON.stringify({ event_id: 'big', pad: 'x'.repeat(4 * MB) }));
    await wal.append(chunk);
    free -= Buffer.byteLength(chunk);
    await expect(wal.append(chunk)).rejects.toMatchObject({
      code: 'WAL_UNAVAILABLE',
      message: expect.stringContaining('the disk is nearly full'),
    });
    expect(wal.writable()).toBe(false);
    // Other files took the rest meanwhile: the probe asks the disk, and there is no room.
    free = 64 * MB + 1000;
    expect(wal.probe()).toBe(false);
    // The loader turned segments into Parquet and deleted them.
    free = 200 * MB;
    await wal.append(chunk);
    expect(wal.writable()).toBe(true);
    expect(changes).toEqual(['INLET_DISK_LOW', 'works']);
    await wal.close();
    cleanup();
  });
});

describe('walWritableLogger', () => {
  it('logs an outage and its end once, and one that comes back within a minute not again', () => {
    const { logger, lines } = capturingLogger<{ outages?: number }>();
    const change = walWritableLogger(logger, 'events');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    change(full);
    change(undefined);
    change(full);
    change(undefined);
    change(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [50, expect.stringContaining('(the disk is full)')],
      [30, 'the write-ahead log takes writes again'],
      [50, expect.stringContaining('(the disk reported an I/O error)')],
    ]);
    expect(lines[2]?.outages).toBe(2);
  });
});

describe('encodeRecords', () => {
  it('frames many bodies, with Japanese and emoji, exactly as encodeRecord does one by one', () => {
    const bodies = ['{"a":1}', '{"t":"講義を視聴 🎬"}', '{}'];
    expect(encodeRecords(bodies).toString('utf8')).toBe(bodies.map(encodeRecord).join(''));
    expect([...scanLines(encodeRecords(bodies))].every((l) => l.check.ok)).toBe(true);
  });

  it('writes lone surrogates as U+FFFD, which DuckDB reads, and leaves pairs and escaped backslashes alone', () => {
    // What JSON.stringify makes of strings a client's JSON.parse'd body can hold.
    const body = JSON.stringify({
      '\ud800': 'a\udc00b',
      pair: '😀',
      text: '\\ud800 typed',
      both: '\\\ud800',
      twice: '\udbff\udbff',
    });
    expect(body).toContain('"\\ud800":"a\\udc00b"');
    const expected = JSON.stringify({
      '\ufffd': 'a\ufffdb',
      pair: '😀',
      text: '\\ud800 typed',
      both: '\\\ufffd',
      twice: '\ufffd\ufffd',
    });
    expect(JSON.parse(withoutLoneSurrogates(body))).toEqual(JSON.parse(expected));
    const framed = encodeRecords(['{"a":1}', body]).toString('utf8');
    expect(framed).toBe(encodeRecord('{"a":1}') + encodeRecord(body));
    expect(JSON.parse(framed.split('\n')[1] as string).e).toEqual(JSON.parse(expected));
    expect([...scanLines(Buffer.from(framed))].every((l) => l.check.ok)).toBe(true);
  });
});

describe('encodeRecords, many requests kept at once', () => {
  it('gives each request bytes of its own: none overwritten by later ones, in one slab or the next, large or small', () => {
    // The WAL holds requests' records until it has written them, while later requests are encoded.
    // 3,000 requests of up to ~9 KB fill several slabs; every 100th is larger than a quarter of one.
    const kept: Array<{ records: Buffer; expected: string }> = [];
    for (let i = 0; i < 3000; i++) {
      const text = i % 100 === 99 ? 'x'.repeat(1_100_000) : `講義 ${i} `.repeat(i % 700);
      const bodies = [JSON.stringify({ i, text }), JSON.stringify({ i: -i })];
      kept.push({ records: encodeRecords(bodies), expected: bodies.map(encodeRecord).join('') });
    }
    for (const { records, expected } of kept) expect(records.toString('utf8')).toBe(expected);
    // Requests share slabs (a fresh buffer for each cost more than encoding), but not the large ones.
    const slabs = new Set(kept.map(({ records }) => records.buffer));
    expect(slabs.size).toBeLessThan(kept.length / 10);
    expect(kept[99]?.records.buffer.byteLength).toBe(kept[99]?.records.length);
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
    const end = content.length - 25;
    for (const chunk of [7, 64, 1 << 20])
      expect(await verifySegmentFile(path, { chunkBytes: chunk })).toEqual({ lines: 3, bad: whole, end });
    // From the start of a line: only what follows, at the same offsets.
    const from = line(1).length;
    for (const chunk of [7, 1 << 20])
      expect(await verifySegmentFile(path, { chunkBytes: chunk, from })).toEqual({
        lines: 2,
        bad: whole,
        end,
      });
    cleanup();
  });
});

describe('WAL writer when its folder or open segment is deleted while it runs', () => {
  const idsIn = (dir: string) =>
    listSegments(dir).flatMap((segment) =>
      [...scanLines(readFileSync(segmentPath(dir, segment)))].map((l) =>
        l.check.ok ? (JSON.parse(l.check.body.toString()) as { event_id: string }).event_id : 'bad',
      ),
    );

  it('writes the open segment again when the folder is removed (rm -rf), keeping what it held and what comes after', async () => {
    const { dir, wal, deleted, cleanup } = openWal({ inFolder: true });
    await wal.append(line(1));
    await wal.append(line(2));
    rmSync(dir, { recursive: true, force: true });
    // Acknowledged only once they are in a file the loader can find.
    await wal.append(line(3));
    await wal.append(line(4));
    expect(idsIn(dir)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(deleted).toEqual([
      expect.objectContaining({ segment: expect.any(Number), bytes: 3 * line(1).length }),
    ]);
    expect(wal.writable()).toBe(true);
    await wal.seal();
    expect(wal.sealedSegments()).toHaveLength(1);
    await wal.close();
    cleanup();
  });

  it('writes the open segment again when it alone is unlinked', async () => {
    const { dir, wal, deleted, cleanup } = openWal();
    await wal.append(line(1));
    const [open] = listSegments(dir);
    unlinkSync(segmentPath(dir, open as number));
    await Promise.all([wal.append(line(2)), wal.append(line(3))]);
    expect(idsIn(dir)).toEqual(['e1', 'e2', 'e3']);
    expect(deleted).toHaveLength(1);
    await wal.close();
    cleanup();
  });

  it('notices a deleted folder with no traffic when probed, for /healthz', async () => {
    const { dir, wal, deleted, cleanup } = openWal({ inFolder: true });
    await wal.append(line(1));
    rmSync(dir, { recursive: true, force: true });
    expect(wal.probe()).toBe(true);
    expect(deleted).toHaveLength(1);
    expect(wal.deletedSegment()).toMatchObject({ at: expect.any(String), bytes: line(1).length });
    expect(idsIn(dir)).toEqual(['e1']);
    await wal.close();
    cleanup();
  });

  it('refuses, naming the deletion, when the folder cannot be made again; nothing is acknowledged', async () => {
    const changes: string[] = [];
    const { dir, wal, cleanup } = openWal({
      inFolder: true,
      onWritableChange: (error) => changes.push(error === undefined ? 'works' : (error as Error).message),
    });
    await wal.append(line(1));
    rmSync(dir, { recursive: true, force: true });
    // A file where the folder was: nothing can be written there.
    writeFileSync(dir, 'not a folder');
    const refused = wal.append(line(2));
    await expect(refused).rejects.toMatchObject({
      code: 'WAL_UNAVAILABLE',
      message: expect.stringContaining('deleted'),
    });
    await expect(refused).rejects.toMatchObject({ message: expect.not.stringContaining('disk') });
    expect(wal.writable()).toBe(false);
    // /healthz's probe says so too, and does not throw on the file in the folder's place.
    expect(wal.probe()).toBe(false);
    await expect(wal.append(line(3))).rejects.toMatchObject({ code: 'WAL_UNAVAILABLE' });
    expect(changes).toHaveLength(1);
    // Put right: the folder can be made again, and writing resumes.
    rmSync(dir);
    await wal.append(line(4));
    expect(wal.writable()).toBe(true);
    // Both what it had acknowledged before the folder went, and what came after.
    expect(idsIn(dir)).toEqual(['e1', 'e4']);
    await wal.close();
    cleanup();
  });

  it('keeps the copy of a segment a crash left while it was being written again, and removes one already in place', async () => {
    const { dir, cleanup } = tempDir();
    // Killed between the copy and its link: the copy is all that is left of the segment.
    writeFileSync(join(dir, '.0000000000000003.log.rewrite'), line(1) + line(2));
    // Killed between the link and the removal of the copy's name: the same file twice.
    writeFileSync(segmentPath(dir, 4), line(3));
    linkSync(segmentPath(dir, 4), join(dir, '.0000000000000004.log.rewrite'));
    const wal = createWalWriter({ dir, segmentBytes: 1 << 20, maxBytes: 1 << 30 });
    await wal.close();
    expect(readdirSync(dir).filter((name) => name.endsWith('.rewrite'))).toEqual([]);
    expect(listSegments(dir).slice(0, 2)).toEqual([3, 4]);
    expect(readFileSync(segmentPath(dir, 3), 'utf8')).toBe(line(1) + line(2));
    expect(readFileSync(segmentPath(dir, 4), 'utf8')).toBe(line(3));
    cleanup();
  });

  it('goes on in a new segment when something else wrote to the open one, so its bytes spoil no record of inlet', async () => {
    const { dir, wal, cleanup } = openWal();
    await wal.append(line(1));
    const [open] = listSegments(dir);
    // echo -n >> by hand, or a second program: a line with no newline, which the next record joined.
    appendFileSync(segmentPath(dir, open as number), '{"stray":');
    await wal.append(line(2));
    await wal.append(line(3));
    expect(idsIn(dir).filter((id) => id !== 'bad')).toEqual(['e1', 'e2', 'e3']);
    await wal.close();
    cleanup();
  });

  it('says the WAL folder is gone, not that the disk refused, for ENOENT', () => {
    const { logger, lines } = capturingLogger();
    walWritableLogger(
      logger,
      'events',
    )(Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT' }));
    expect(lines[0]?.msg).toContain('deleted');
    expect(lines[0]?.msg).not.toContain('disk');
  });
});

describe('WAL writer when the clock jumps back', () => {
  it("keeps counting a segment's age and probing once a second, by the time that passed", async () => {
    const MB = 1024 * 1024;
    let free = 0;
    const { wal, cleanup } = openWal({ minFreeBytes: 64 * MB, freeBytes: () => free });
    free = 64 * MB + 200;
    await wal.append(line(1));
    free = 10 * MB;
    await expect(wal.append(`${'x'.repeat(300)}\n`)).rejects.toMatchObject({ code: 'WAL_UNAVAILABLE' });
    expect(wal.probe()).toBe(false);
    // NTP steps the clock back an hour: the segment's age was negative for that hour, so it was
    // not sealed by age, and the probe waited an hour for its next second.
    const wall = Date.now;
    const back = vi.spyOn(Date, 'now').mockImplementation(() => wall() - 3_600_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(wal.currentAgeMs()).toBeGreaterThan(0);
      free = 200 * MB;
      expect(wal.probe()).toBe(true);
    } finally {
      back.mockRestore();
    }
    await wal.close();
    cleanup();
  });
});
