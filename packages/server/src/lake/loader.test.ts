import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it, vi } from 'vitest';
import { bundledFixture } from '../../test/bundled-fixture.ts';
import { stdoutOf } from '../../test/child-processes.ts';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import {
  AS_NOBODY,
  capturingLogger,
  IN_MEMORY,
  nobodyCanRun,
  tempDir,
  testConfig,
} from '../../test/helpers.ts';
import { lakeRejects, walRecord } from '../../test/lake-fixtures.ts';
import { createQueryEngine } from '../engine/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { createWalWriter, listSegments, segmentPath } from '../wal/index.ts';
import { checkSegment } from './event-loader.ts';
import { idFilterPath, readIdFilter } from './id-filter.ts';
import {
  compactPartition,
  createLoader,
  createReadLeases,
  type DataLayout,
  damagedFileMessage,
  dataLayout,
  defaultLoaderThreads,
  loadGroups,
  type MovedFile,
  partitionFiles,
  recoverCompaction,
} from './index.ts';

const cleanups = cleanupAfterEach();

const record = (id: string, ts = '2026-11-20T10:00:00.000Z') =>
  walRecord({ event_id: id, ts, anonymous_id: 'a', properties: { n: id } });

async function setup(
  overrides = {},
  segmentBytes = 1 << 20,
  options: Partial<Parameters<typeof createLoader>[0]> = {},
  temp = tempDir(),
) {
  const config = testConfig(temp.dir, overrides);
  const layout = dataLayout(config.data_dir);
  const metrics = createMetrics();
  const wal = createWalWriter({ dir: layout.walEvents, segmentBytes, maxBytes: 1 << 30 });
  const leases = createReadLeases();
  const loader = await createLoader({
    config,
    layout,
    wal,
    logger: createSilentLogger(),
    metrics,
    leases,
    ...options,
  });
  const engine = await createQueryEngine({ config, layout, leases });
  cleanups.push(temp.cleanup, async () => {
    await loader.stop();
    await wal.close();
    engine.close();
  });
  const ids = async () =>
    (await engine.query('SELECT event_id FROM events ORDER BY event_id')).rows.map((r) => r[0]);
  return { config, layout, metrics, wal, loader, engine, ids, leases };
}

describe('loader', () => {
  it('deletes event partitions older than retention.events_days after its first load, then hourly', async () => {
    const { layout, wal, loader, ids } = await setup({ retention: { events_days: 30 } });
    const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    await wal.append(
      record('old', `${day(31)}T12:00:00.000Z`) +
        record('kept', `${day(29)}T12:00:00.000Z`) +
        record('new', `${day(0)}T00:00:00.000Z`),
    );
    await loader.runOnce({ sealNow: true });
    expect(readdirSync(layout.events).sort()).toEqual([`dt=${day(29)}`, `dt=${day(0)}`]);
    expect(await ids()).toEqual(['kept', 'new']);
    // Within the hour the next passes leave what ages out meanwhile.
    await wal.append(record('late', `${day(40)}T12:00:00.000Z`));
    await loader.runOnce({ sealNow: true });
    expect(readdirSync(layout.events)).toContain(`dt=${day(40)}`);
  });

  it('moves sealed segments into dt partitions and deletes them', async () => {
    const { layout, wal, loader, ids } = await setup();
    await wal.append(record('a') + record('b', '2026-11-21T00:00:01.000Z'));
    expect(await ids()).toEqual(['a', 'b']);
    await loader.runOnce({ sealNow: true });
    expect(readdirSync(layout.events).sort()).toEqual(['dt=2026-11-20', 'dt=2026-11-21']);
    expect(listSegments(layout.walEvents).length).toBe(1);
    expect(await ids()).toEqual(['a', 'b']);
  });

  it('keeps one copy of a repeated event id within a segment, across segments and in the view before loading', async () => {
    const { wal, loader, ids, metrics } = await setup();
    await wal.append(record('a') + record('a'));
    expect(await ids()).toEqual(['a']);
    await loader.runOnce({ sealNow: true });
    await wal.append(record('a') + record('c'));
    expect(await ids()).toEqual(['a', 'c']);
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'c']);
    expect(metrics.render()).toContain('inlet_loader_duplicates_total 2');
  });

  it("drops a retry whose corrected time fell on the other side of midnight from its first copy's", async () => {
    const { layout, wal, loader, ids } = await setup();
    await wal.append(record('a', '2026-11-20T23:59:59.900Z') + record('b', '2026-11-22T12:00:00.000Z'));
    await loader.runOnce({ sealNow: true });
    await wal.append(record('a', '2026-11-21T00:00:00.200Z') + record('b', '2026-11-21T12:00:00.000Z'));
    expect(await ids()).toEqual(['a', 'b']);
    const [result] = await loader.runOnce({ sealNow: true });
    expect(result?.duplicates).toBe(2);
    expect(readdirSync(layout.events).sort()).toEqual(['dt=2026-11-20', 'dt=2026-11-22']);
    expect(await ids()).toEqual(['a', 'b']);
  });

  it('leaves a retry out of the view before loading as the loader drops it, over a dedup window longer than 48 hours', async () => {
    const { wal, loader, ids } = await setup({ loader: { dedup_window_hours: 168 } });
    const fourDaysAgo = new Date(Date.now() - 100 * 3_600_000).toISOString();
    await wal.append(walRecord({ event_id: 'a', ts: fourDaysAgo, received_at: fourDaysAgo }));
    await loader.runOnce({ sealNow: true });
    await wal.append(record('a', fourDaysAgo));
    expect(await ids()).toEqual(['a']);
    const [result] = await loader.runOnce({ sealNow: true });
    expect(result?.duplicates).toBe(1);
    expect(await ids()).toEqual(['a']);
  });

  it('drops retries as well with no id filter in memory (loader.id_filter_bytes: 0), reading them from disk', async () => {
    for (const [budget, held] of [
      [0, 0],
      // The first load's file, its three ids.
      [undefined, 24],
    ] as const) {
      const { wal, loader, ids, metrics } = await setup({ loader: { id_filter_bytes: budget } });
      await wal.append(record('a', '2026-11-20T23:59:59.900Z') + record('b') + record('c'));
      await loader.runOnce({ sealNow: true });
      await wal.append(record('a', '2026-11-21T00:00:00.200Z') + record('b') + record('d'));
      const [result] = await loader.runOnce({ sealNow: true });
      expect(result?.duplicates).toBe(2);
      expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
      expect(metrics.render()).toMatch(new RegExp(`^inlet_loader_id_filter_bytes ${held}$`, 'm'));
    }
  });

  it('keeps a loaded segment while a query that may read it runs, and does not load it again', async () => {
    const { layout, wal, loader, ids, leases, metrics, engine } = await setup();
    await wal.append(record('a') + record('b'));
    await wal.seal();
    const [segment] = wal.sealedSegments();
    const file = segmentPath(layout.walEvents, segment as number);
    const query = leases.begin(); // a query planned before the load, still reading
    await loader.runOnce();
    expect(existsSync(file)).toBe(true);
    expect(await ids()).toEqual(['a', 'b']); // the lake's rows; the view no longer lists the segment,
    // so a query that begins now never reads a file whose deletion may finish before its scan does
    const [[view]] = (await engine.query("SELECT sql FROM duckdb_views() WHERE view_name = 'events'")).rows;
    expect(view).not.toContain(file);
    expect(await loader.runOnce()).toEqual([]);
    expect(metrics.render()).toContain('inlet_loader_rows_total 2');
    query();
    await leases.settled();
    expect(existsSync(file)).toBe(false);
    expect(await ids()).toEqual(['a', 'b']);
  });

  it('loading the same segment twice (a crash before its deletion) duplicates nothing', async () => {
    const { layout, wal, loader, ids, metrics } = await setup();
    await wal.append(record('a') + record('b'));
    await wal.seal();
    const [segment] = wal.sealedSegments();
    const saved = join(layout.dataDir, 'saved.log');
    copyFileSync(segmentPath(layout.walEvents, segment as number), saved);
    await loader.runOnce();
    copyFileSync(saved, segmentPath(layout.walEvents, segment as number));
    await loader.runOnce();
    expect(await ids()).toEqual(['a', 'b']);
    expect(partitionFiles(join(layout.events, 'dt=2026-11-20'))).toHaveLength(1);
    // No client retried: the re-load's rows are counted apart from retries.
    expect(metrics.render()).toMatch(/^inlet_loader_duplicates_total 0$/m);
    expect(metrics.render()).toMatch(/^inlet_loader_reloaded_rows_total 2$/m);
  });

  it("counts a crash's re-load apart from client retries, in one group and with a retry inside the re-loaded segment", async () => {
    const { layout, wal, loader, ids, metrics } = await setup();
    await wal.append(record('a'));
    await wal.seal();
    // A client's retry of a, and a repeat within the segment, beside new events.
    await wal.append(record('a') + record('b') + record('c') + record('c'));
    await wal.seal();
    await wal.append(record('d'));
    await wal.seal();
    const segments = wal.sealedSegments();
    const saved = segments.map((segment) => readFileSync(segmentPath(layout.walEvents, segment)));
    const render = () => metrics.render();
    expect((await loader.runOnce()).map((r) => r.segments.length)).toEqual([1, 2]);
    expect(render()).toMatch(/^inlet_loader_duplicates_total 2$/m);
    expect(render()).toMatch(/^inlet_loader_reloaded_rows_total 0$/m);
    // A crash before the second group's deletions, and a new segment after the restart with one retry.
    for (const i of [1, 2])
      writeFileSync(segmentPath(layout.walEvents, segments[i] as number), saved[i] as Buffer);
    wal.refresh();
    await wal.append(record('b') + record('e'));
    await wal.seal();
    const results = await loader.runOnce();
    expect(results.map((r) => [r.rows, r.duplicates, r.reloaded])).toEqual([
      [0, 0, 4],
      [1, 1, 1],
    ]);
    expect(render()).toMatch(/^inlet_loader_duplicates_total 3$/m);
    expect(render()).toMatch(/^inlet_loader_reloaded_rows_total 5$/m);
    expect(await ids()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('loads segments that piled up in groups, one file a group, ids repeated across them once', async () => {
    const { layout, wal, loader, ids, metrics } = await setup();
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      // z is new in the last group, and in both of its segments.
      await wal.append(record(id) + record('a') + (id >= 'd' ? record('z') : ''));
      await wal.seal();
    }
    const results = await loader.runOnce();
    expect(results.map((r) => r.segments.length)).toEqual([1, 2, 2]);
    expect(partitionFiles(join(layout.events, 'dt=2026-11-20'))).toHaveLength(3);
    expect(wal.sealedSegments()).toEqual([]);
    expect(await ids()).toEqual(['a', 'b', 'c', 'd', 'e', 'z']);
    expect(metrics.render()).toContain('inlet_loader_duplicates_total 6');
  });

  it("a crash between a group's deletions, or before them with other groups, loses and repeats nothing", async () => {
    const { layout, wal, loader, ids } = await setup();
    for (const id of ['a', 'b', 'c', 'd']) {
      await wal.append(record(id) + record(`${id}2`));
      await wal.seal();
    }
    const segments = wal.sealedSegments();
    const saved = segments.map((segment) => {
      const copy = join(layout.dataDir, `saved-${segment}.log`);
      copyFileSync(segmentPath(layout.walEvents, segment), copy);
      return copy;
    });
    const restore = (...indexes: number[]) => {
      for (const i of indexes)
        copyFileSync(saved[i] as string, segmentPath(layout.walEvents, segments[i] as number));
      wal.refresh();
    };
    const all = ['a', 'a2', 'b', 'b2', 'c', 'c2', 'd', 'd2'];
    const files = () => partitionFiles(join(layout.events, 'dt=2026-11-20')).map((f) => f.name);
    // Groups [1], [2, 3], [4].
    expect((await loader.runOnce()).map((r) => r.segments.length)).toEqual([1, 2, 1]);
    const loaded = files();
    // A crash after the second group's first segment was deleted: its second is loaded again.
    restore(2, 3);
    expect((await loader.runOnce()).map((r) => r.rows)).toEqual([0, 0]);
    expect(await ids()).toEqual(all);
    // A crash after the group's second segment was deleted but not its first (deletions that wait
    // for queries run in any order): that first segment alone must not replace the group's file.
    restore(1);
    expect((await loader.runOnce()).map((r) => r.rows)).toEqual([0]);
    expect(await ids()).toEqual(all);
    // Before any deletion: the same segments again, now grouped [2], [3, 4].
    restore(1, 2, 3);
    await loader.runOnce();
    expect(await ids()).toEqual(all);
    expect(files()).toEqual(loaded);
    expect(wal.sealedSegments()).toEqual([]);
  });

  it('writes a group that spans two days into both partitions, and its retry adds nothing', async () => {
    const { layout, wal, loader, ids } = await setup();
    const day2 = '2026-11-21T00:00:01.000Z';
    for (const records of [record('a'), record('b') + record('x', day2), record('c', day2) + record('b')]) {
      await wal.append(records);
      await wal.seal();
    }
    const [, second] = wal.sealedSegments();
    const saved = join(layout.dataDir, 'saved.log');
    copyFileSync(segmentPath(layout.walEvents, second as number), saved);
    expect((await loader.runOnce()).map((r) => r.partitions)).toEqual([
      ['2026-11-20'],
      ['2026-11-20', '2026-11-21'],
    ]);
    const files = (dt: string) => partitionFiles(join(layout.events, `dt=${dt}`)).map((f) => f.name);
    expect(files('2026-11-21')).toEqual([`part-${String(second).padStart(16, '0')}.parquet`]);
    // The group's first segment again, as after a crash that deleted only its second.
    copyFileSync(saved, segmentPath(layout.walEvents, second as number));
    wal.refresh();
    expect((await loader.runOnce()).map((r) => r.rows)).toEqual([0]);
    expect(files('2026-11-20')).toHaveLength(2);
    expect(files('2026-11-21')).toHaveLength(1);
    expect(await ids()).toEqual(['a', 'b', 'c', 'x']);
  });

  it('loads a segment whose events span 1,000 days, 64 days a copy, every event once in its partition', async () => {
    // One PARTITION_BY over 800 days or more ran DuckDB out of memory on every pass, so that segment
    // and every later one stayed out of the lake (a backfill does this; so could any client).
    const { layout, wal, loader, engine } = await setup({}, 8 << 20, {}, tempDir(undefined, IN_MEMORY));
    const day = (i: number) => new Date(Date.UTC(2023, 0, 1) + i * 86_400_000).toISOString();
    let records = '';
    for (let i = 0; i < 1000; i++)
      records += record(`d${i}`, day(i)) + (i % 10 === 0 ? record(`e${i}`, day(i)) : '');
    await wal.append(records + record('d0', day(0)));
    await loader.runOnce({ sealNow: true });
    expect(listSegments(layout.walEvents).length).toBe(1);
    expect(readdirSync(layout.events)).toHaveLength(1000);
    const [row] = (
      await engine.query(
        'SELECT count(*)::INT, count(DISTINCT event_id)::INT, count(DISTINCT dt)::INT, count(*) FILTER (WHERE dt <> ts::DATE)::INT FROM events',
      )
    ).rows;
    expect(row).toEqual([1100, 1100, 1000, 0]);
  });

  it('loads large segments one at a time: a group holds at most 512 MB of WAL', async () => {
    // The largest segments wal.segment_bytes allows (256 MiB): two a group.
    const { wal, loader, ids } = await setup({ wal: { segment_bytes: 256 * 2 ** 20 } });
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    for (const id of names) {
      await wal.append(record(id));
      await wal.seal();
    }
    // Doubling alone would make groups of 1, 2 and 4.
    expect((await loader.runOnce()).map((r) => r.segments.length)).toEqual([1, 2, 2, 2]);
    expect(await ids()).toEqual(names);
  });

  it('groups sealed segments one, then doubling up to compact_min_files', () => {
    expect(loadGroups([], 8)).toEqual([]);
    expect(loadGroups([7], 8)).toEqual([[7]]);
    const groups = loadGroups(
      Array.from({ length: 20 }, (_, i) => i + 1),
      8,
    );
    expect(groups.map((g) => g.length)).toEqual([1, 2, 4, 8, 5]);
    expect(groups.flat()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(loadGroups([1, 2, 3, 4], 2).map((g) => g.length)).toEqual([1, 2, 1]);
  });

  it('gives DuckDB every core without the collector, and leaves one to it beside the collector', () => {
    expect([1, 2, 4, 8].map((cores) => defaultLoaderThreads(false, cores))).toEqual([1, 2, 4, 4]);
    expect([1, 2, 4, 8].map((cores) => defaultLoaderThreads(true, cores))).toEqual([1, 1, 3, 4]);
  });

  it('drops a repeat of a loaded id whether its file has a good, damaged or no id filter', async () => {
    const { layout, wal, loader, ids } = await setup();
    await wal.append(record('a') + record('b'));
    await loader.runOnce({ sealNow: true });
    const [first] = partitionFiles(join(layout.events, 'dt=2026-11-20'));
    const filter = idFilterPath((first as { path: string }).path);
    expect(readIdFilter((first as { path: string }).path)).toHaveLength(2);
    await wal.append(record('a') + record('c'));
    await loader.runOnce({ sealNow: true });
    writeFileSync(filter, 'IDF1 damaged');
    await wal.append(record('b') + record('d'));
    await loader.runOnce({ sealNow: true });
    rmSync(filter);
    await wal.append(record('a') + record('e'));
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'b', 'c', 'd', 'e']);
    // A segment of nothing but repeats leaves no file behind.
    const files = partitionFiles(join(layout.events, 'dt=2026-11-20')).length;
    await wal.append(record('c') + record('d'));
    await loader.runOnce({ sealNow: true });
    expect(partitionFiles(join(layout.events, 'dt=2026-11-20'))).toHaveLength(files);
    expect(await ids()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('skips a corrupt record, keeps it in lake/_rejects and counts it', async () => {
    const { layout, wal, loader, ids, metrics } = await setup();
    await wal.append(record('a') + record('b').replace('"n":"b"', '"n":"X"') + record('c'));
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'c']);
    expect(lakeRejects(layout, 'events')).toMatchObject([
      { reason: 'checksum mismatch', raw: expect.stringContaining('"n":"X"') },
    ]);
    expect(metrics.render()).toContain('inlet_wal_corrupt_records_total{reason="corrupt"} 1');
  });

  it("keeps a segment's corrupt records once when its load is tried again after midnight", async () => {
    const { layout, wal } = await setup();
    await wal.append(record('a') + record('b').replace('"n":"b"', '"n":"X"'));
    await wal.seal();
    const [segment] = listSegments(layout.walEvents) as [number];
    const check = () => checkSegment({ layout, segment, logger: createSilentLogger() });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-11-20T23:59:59Z'));
      await check();
      // The copy failed (say), and the next pass checks the segment again, on the next day.
      vi.setSystemTime(new Date('2026-11-21T00:00:01Z'));
      await check();
    } finally {
      vi.useRealTimers();
    }
    const rejectDir = join(layout.rejects, 'events');
    const kept = readdirSync(rejectDir).flatMap((partition) => readdirSync(join(rejectDir, partition)));
    expect(kept).toEqual([`segment-${String(segment).padStart(16, '0')}.ndjson`]);
  });

  it('never writes over the rejects of an earlier segment of the same id (the WAL folder wiped, ids restarting at 1)', async () => {
    const { layout, wal } = await setup();
    await wal.append(record('a') + record('b').replace('"n":"b"', '"n":"X"'));
    await wal.seal();
    const [segment] = listSegments(layout.walEvents) as [number];
    const check = () => checkSegment({ layout, segment, logger: createSilentLogger() });
    await check();
    // The WAL folder was wiped: the next segment of the same id holds other corrupt records.
    writeFileSync(segmentPath(layout.walEvents, segment), record('c').replace('"n":"c"', '"n":"Y"'));
    await check();
    const rejectDir = join(layout.rejects, 'events');
    const kept = readdirSync(rejectDir).flatMap((partition) =>
      readdirSync(join(rejectDir, partition)).map((file) =>
        readFileSync(join(rejectDir, partition, file), 'utf8'),
      ),
    );
    expect(kept).toHaveLength(2);
    expect(kept.join('')).toContain('\\"n\\":\\"X\\"');
    expect(kept.join('')).toContain('\\"n\\":\\"Y\\"');
  });

  it('shows no row for a line of JSON that is no WAL record (garbage appended to a segment) before loading, nor after', async () => {
    const { layout, wal, loader, ids, engine } = await setup();
    await wal.append(record('a'));
    await wal.seal();
    const [segment] = listSegments(layout.walEvents);
    appendFileSync(segmentPath(layout.walEvents, segment as number), '{"x":1}\n[2]\n');
    // Each was a row of NULLs in events until the loader skipped it.
    expect(await ids()).toEqual(['a']);
    expect((await engine.query('SELECT count(*)::INTEGER FROM events')).rows).toEqual([[1]]);
    await loader.runOnce();
    expect(await ids()).toEqual(['a']);
  });

  it('loads events whose texts, property keys and values hold lone surrogates, as U+FFFD', async () => {
    const { wal, loader, engine } = await setup();
    // JSON.parse accepts "\ud800" in any client's body; DuckDB's JSON reader refuses it.
    await wal.append(
      walRecord({
        event_id: 'lone',
        ts: '2026-11-20T10:00:00.000Z',
        title: 'a\ud800',
        properties: { '\udc00': 'b\udbff', pair: '😀' },
      }) + record('next'),
    );
    const read = async () =>
      (await engine.query('SELECT event_id, title, properties::VARCHAR FROM events ORDER BY event_id')).rows;
    const expected = [
      ['lone', 'a\ufffd', '{"\ufffd":"b\ufffd","pair":"😀"}'],
      ['next', null, '{"n":"next"}'],
    ];
    expect(await read()).toEqual(expected);
    await loader.runOnce({ sealNow: true });
    expect(await read()).toEqual(expected);
  });

  it('repairs a segment DuckDB cannot read: lone surrogates become U+FFFD, unparsable records go to _rejects', async () => {
    const { layout, wal, loader, ids, metrics } = await setup();
    // Records as a WAL written before the collector replaced lone surrogates holds them, and one
    // whose checksum is good but which is not JSON: neither may stop the loader for good.
    const frame = (body: string) =>
      `{"c":"${(crc32(body) >>> 0).toString(16).padStart(8, '0')}","e":${body}}\n`;
    const body = (id: string, extra: string) =>
      `{"event_id":"${id}","site":"docs","type":"track","ts":"2026-11-20T10:00:00.000Z","received_at":"2026-11-20T10:00:00.000Z","device_type":"desktop","is_bot":false${extra},"dt":"2026-11-20"}`;
    await wal.append(
      record('a') +
        frame(body('old', ',"properties":{"k":"x\\ud800"}')) +
        frame(body('broken', ',"properties":{"k" 1}')) +
        frame(body('control', ',"properties":{"k":"a\u0001b"}')) +
        record('c'),
    );
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'c', 'old']);
    expect(wal.sealedSegments()).toEqual([]);
    const rejectDir = join(layout.rejects, 'events');
    const [partition] = readdirSync(rejectDir);
    const files = readdirSync(join(rejectDir, partition as string));
    expect(files).toEqual(['segment-0000000000000001.unreadable.ndjson']);
    expect(lakeRejects(layout, 'events')).toMatchObject([
      { line: 3, reason: 'DuckDB cannot parse it as JSON', raw: expect.stringContaining('"k" 1') },
      // A raw control character: not JSON, and a field separator to the CSV reader the repair uses.
      { line: 4, reason: 'DuckDB cannot parse it as JSON', raw: expect.stringContaining('"a\u0001b"') },
    ]);
    expect(metrics.render()).toContain('inlet_wal_corrupt_records_total{reason="unreadable"} 2');
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="corrupt"\} 0$/m);
    // The next segment loads as usual.
    await wal.append(record('d'));
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'c', 'd', 'old']);
  });

  it('compacts small files of a partition into one, without losing or repeating rows', async () => {
    const { layout, wal, loader, ids } = await setup({ loader: { compact_min_files: 3 } });
    for (const id of ['a', 'b', 'c', 'd']) {
      await wal.append(record(id) + record('a'));
      await loader.runOnce({ sealNow: true });
    }
    const files = partitionFiles(join(layout.events, 'dt=2026-11-20'));
    expect(files.length).toBeLessThanOrEqual(2);
    expect(files.some((f) => f.name.startsWith('c-'))).toBe(true);
    expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
  });

  /** An empty partition directory and a DuckDB connection to write files into it, both cleaned up. */
  const partitionDir = async () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    // As the loader's instance: without insertion order, which lets row groups be capped in bytes.
    const instance = await DuckDBInstance.create(':memory:', { preserve_insertion_order: 'false' });
    const connection = await instance.connect();
    cleanups.push(() => {
      connection.closeSync();
      instance.closeSync();
    });
    return { temp, connection };
  };

  it('merges compacted files into the next level under a new name, so a crash mid-merge loses none of them', async () => {
    const { temp, connection } = await partitionDir();
    for (const [name, id] of [
      ['c-0003', 'x'],
      ['c-0005', 'y'],
    ])
      await connection.run(
        `COPY (SELECT '${id}' AS event_id) TO '${join(temp.dir, `${name}.parquet`)}' (FORMAT parquet)`,
      );
    expect(await compactPartition(connection, temp.dir, 2)).toEqual({ inputs: 2, rows: 2 });
    expect(readdirSync(temp.dir)).toEqual(['c2-0005.parquet']);
  });

  it('writes merged files in row groups of at most 32 MB, so a merge of wide rows holds no 122,880-row group', async () => {
    const { temp, connection } = await partitionDir();
    // 120,000 rows of ~1 KB: below 122,880 rows, so without the cap the merge is one 120 MB row group.
    for (const n of [1, 2, 3])
      await connection.run(
        `COPY (SELECT 'e${n}-' || i AS event_id, repeat(md5(i::VARCHAR), 32) AS payload FROM range(40000) t(i)) ` +
          `TO '${join(temp.dir, `part-000${n}.parquet`)}' (FORMAT parquet)`,
      );
    expect(await compactPartition(connection, temp.dir, 3)).toEqual({ inputs: 3, rows: 120_000 });
    const groups = (
      await connection.runAndReadAll(
        `SELECT DISTINCT row_group_id, row_group_num_rows::INTEGER FROM parquet_metadata('${join(temp.dir, 'c-0003.parquet')}')`,
      )
    ).getRows() as [number, number][];
    expect(groups.length).toBeGreaterThan(2);
    expect(Math.max(...groups.map(([, rows]) => rows))).toBeLessThan(60_000);
  });

  it('loads a segment of events near the 32 KB limit (DuckDB parses 2,048 of them at a time)', async () => {
    // One 64 MB segment, as the WAL's default: the failure needs 2,048 large events in one read.
    const { layout, wal, loader, engine, metrics } = await setup({}, 64 << 20);
    // 2,100 events with 30 KB of properties each: under the old 256 MB limit this load failed with
    // "Out of Memory" on every pass, and the segment never reached the lake.
    const blob = (i: number) =>
      Array.from({ length: 750 }, (_, k) => String(i * 1_000 + k).padStart(39, 'x')).join(' ');
    for (let start = 0; start < 2_100; start += 100)
      await wal.append(
        Array.from({ length: 100 }, (_, i) =>
          walRecord({
            event_id: `big-${start + i}`,
            ts: '2026-11-20T10:00:00.000Z',
            properties: { blob: blob(start + i) },
          }),
        ).join(''),
      );
    // Queryable from the WAL before the load, as every acknowledged event is.
    expect((await engine.query('SELECT count(*)::INTEGER FROM events')).rows).toEqual([[2_100]]);
    await loader.runOnce({ sealNow: true });
    expect(listSegments(layout.walEvents).length).toBe(1);
    expect(metrics.render()).toMatch(/^inlet_loader_rows_total 2100$/m);
    const [row] = (
      await engine.query(
        "SELECT count(*)::INTEGER, count(DISTINCT properties->>'blob')::INTEGER, min(length(properties->>'blob'))::INTEGER FROM events",
      )
    ).rows;
    expect(row).toEqual([2_100, 2_100, 29_999]);
  });

  it('merges level by level: a merged file waits for others of its level, not for each new part', async () => {
    const { temp, connection } = await partitionDir();
    const part = (n: number) =>
      connection.run(
        `COPY (SELECT 'e${n}' AS event_id) TO '${join(temp.dir, `part-${String(n).padStart(4, '0')}.parquet`)}' (FORMAT parquet)`,
      );
    const names = () => readdirSync(temp.dir).sort();
    for (const n of [1, 2, 3]) await part(n);
    expect(await compactPartition(connection, temp.dir, 3)).toEqual({ inputs: 3, rows: 3 });
    for (const n of [4, 5]) await part(n);
    // Two new parts and one merged file: nothing to do yet (the merged file is not merged again).
    expect(await compactPartition(connection, temp.dir, 3)).toBeUndefined();
    await part(6);
    expect(await compactPartition(connection, temp.dir, 3)).toEqual({ inputs: 3, rows: 3 });
    for (const n of [7, 8, 9]) await part(n);
    expect(await compactPartition(connection, temp.dir, 3)).toEqual({ inputs: 3, rows: 3 });
    expect(names()).toEqual(['c-0003.parquet', 'c-0006.parquet', 'c-0009.parquet']);
    expect(await compactPartition(connection, temp.dir, 3)).toEqual({ inputs: 3, rows: 9 });
    expect(names()).toEqual(['c2-0009.parquet']);
    const rows = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER, count(DISTINCT event_id)::INTEGER FROM '${temp.dir}/*.parquet'`,
    );
    expect(rows.getRows()[0]).toEqual([9, 9]);
  });

  it('leaves fewer than compact_min_files files a level when every pass loads several groups (a loader behind)', async () => {
    const { layout, wal, loader, ids } = await setup({ loader: { compact_min_files: 2 } });
    const sent: string[] = [];
    for (let pass = 0; pass < 3; pass++) {
      // Three sealed segments: two groups (one segment, then two), so two part files a pass.
      for (let s = 0; s < 3; s++) {
        sent.push(`p${pass}s${s}`);
        await wal.append(record(`p${pass}s${s}`));
        await wal.seal();
      }
      await loader.runOnce();
    }
    const levels = partitionFiles(join(layout.events, 'dt=2026-11-20')).map(
      (f) => /^[^-]+/.exec(f.name)?.[0],
    );
    expect(levels.length).toBe(new Set(levels).size);
    expect(await ids()).toEqual(sent.sort());
  });

  it('merges at most 128 files at a time, the oldest first, and the rest at the next merge', async () => {
    const { temp, connection } = await partitionDir();
    const name = (n: number) => `part-${String(n).padStart(4, '0')}.parquet`;
    for (let n = 1; n <= 130; n++)
      await connection.run(
        `COPY (SELECT 'e${n}' AS event_id) TO '${join(temp.dir, name(n))}' (FORMAT parquet)`,
      );
    expect(await compactPartition(connection, temp.dir, 2)).toEqual({ inputs: 128, rows: 128 });
    expect(readdirSync(temp.dir).sort()).toEqual(['c-0128.parquet', name(129), name(130)]);
    expect(await compactPartition(connection, temp.dir, 2)).toEqual({ inputs: 2, rows: 2 });
  });

  it('finishes a compaction a crash interrupted after the merged file appeared', () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    writeFileSync(join(temp.dir, 'part-1.parquet'), 'x');
    writeFileSync(join(temp.dir, 'part-2.parquet'), 'x');
    writeFileSync(join(temp.dir, 'c-2.parquet'), 'merged');
    writeFileSync(
      join(temp.dir, '.compact-c-2.inputs'),
      JSON.stringify(['part-1.parquet', 'part-2.parquet']),
    );
    recoverCompaction(temp.dir);
    expect(readdirSync(temp.dir)).toEqual(['c-2.parquet']);
    writeFileSync(join(temp.dir, 'part-3.parquet'), 'x');
    writeFileSync(join(temp.dir, '.compact-c-3.inputs'), JSON.stringify(['c-2.parquet', 'part-3.parquet']));
    recoverCompaction(temp.dir);
    expect(readdirSync(temp.dir).sort()).toEqual(['c-2.parquet', 'part-3.parquet']);
    expect(existsSync(join(temp.dir, '.compact-c-3.inputs'))).toBe(false);
  });

  // JSON.parse threw out of the loader's start: inlet start failed with "Unexpected token 'g'", an
  // error inlet did not foresee, at every try. A list of names with a path or an empty name had the
  // path removed: a file of the data directory ("../../../keep"), or the partition's folder (EISDIR).
  // A named pipe under its name: reading it waited for a writer, for good, and every query with it.
  it.each(['garb', '["../../../keep"]', '["part-x.parquet", ""]', 'a named pipe'])(
    'starts over a finished merge whose manifest cannot be read (%s), naming it, and loads on',
    async (text) => {
      const { config, layout, wal, loader, metrics, ids } = await setup({ loader: { compact_min_files: 2 } });
      await wal.append(record('a'));
      await loader.runOnce({ sealNow: true });
      const dir = join(layout.events, 'dt=2026-11-20');
      const [file] = partitionFiles(dir);
      const manifest = join(dir, `.compact-${file?.name.replace('.parquet', '')}.inputs`);
      if (text === 'a named pipe') execFileSync('mkfifo', [manifest]);
      else writeFileSync(manifest, text);
      writeFileSync(join(layout.dataDir, 'keep'), 'kept');
      const { logger, lines } = capturingLogger();
      const restarted = await createLoader({ config, layout, wal, logger, metrics });
      await wal.append(record('b'));
      await restarted.runOnce({ sealNow: true });
      await restarted.stop();
      expect(await ids()).toEqual(['a', 'b']);
      // Nor merged meanwhile: the files stay as they were, for the one to move out to be told apart.
      expect(partitionFiles(dir).map((f) => f.name.slice(0, 5))).toEqual(['part-', 'part-']);
      expect(lines.filter((line) => line.level === 50).map((line) => line.msg)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${manifest.replaceAll('.', '\\.')} lists the files a finished merge read, but cannot be read`,
          ),
        ),
      ]);
      expect(existsSync(join(layout.dataDir, 'keep'))).toBe(true);
    },
  );
});

describe('a damaged Parquet file in the lake', () => {
  it('is moved to lake/_rejects/damaged by the first query or load that trips on it; the rest is read', async () => {
    const { layout, wal, loader, ids, metrics, engine } = await setup({ loader: { compact_min_files: 3 } });
    for (const id of ['a', 'b']) {
      await wal.append(record(id));
      await loader.runOnce({ sealNow: true });
    }
    const dir = join(layout.events, 'dt=2026-11-20');
    const [first, second] = partitionFiles(dir);
    // Cut short, as by a disk that filled up under a copy made by hand, or overwritten.
    writeFileSync(first?.path as string, readFileSync(first?.path as string).subarray(0, 100));
    expect(await ids()).toEqual(['b']);
    expect(
      existsSync(join(layout.rejects, 'damaged', 'events', 'dt=2026-11-20', first?.name as string)),
    ).toBe(true);
    // A query cannot get a good file moved by raising the same words itself.
    const good = second?.path as string;
    await expect(
      engine.query(`SELECT error('No magic bytes found at end of file ''${good}''')`),
    ).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    expect(existsSync(good)).toBe(true);
    // The loader trips on one while compacting: moved, and the partition is compacted without it.
    writeFileSync(good, 'not parquet');
    await wal.append(record('c'));
    await loader.runOnce({ sealNow: true });
    await wal.append(record('d'));
    await loader.runOnce({ sealNow: true });
    expect(existsSync(good)).toBe(false);
    expect(partitionFiles(dir)).toHaveLength(2);
    expect(metrics.render()).toMatch(/inlet_lake_damaged_files_total 1\n/);
    await wal.append(record('e'));
    await loader.runOnce({ sealNow: true });
    expect(partitionFiles(dir).map((f) => f.name.slice(0, 2))).toEqual(['c-']);
    expect(await ids()).toEqual(['c', 'd', 'e']);
  });
});

describe('a directory where a Parquet file of the lake was', () => {
  it('is left out of queries, loads and merges, which read the rest', async () => {
    const { layout, wal, loader, ids } = await setup({ loader: { compact_min_files: 3 } });
    for (const id of ['a', 'b']) {
      await wal.append(record(id));
      await loader.runOnce({ sealNow: true });
    }
    const dir = join(layout.events, 'dt=2026-11-20');
    const [first] = partitionFiles(dir);
    // A file moved away by hand and a folder made under its name: every query of events failed
    // with QUERY_BUSY ("files of the lake went away … retry in a moment"), for good.
    rmSync(first?.path as string);
    mkdirSync(first?.path as string);
    expect(await ids()).toEqual(['b']);
    for (const id of ['c', 'd']) {
      await wal.append(record(id));
      await loader.runOnce({ sealNow: true });
    }
    expect(await ids()).toEqual(['b', 'c', 'd']);
    // Merged without it: the three files became one, and the folder stays as it was.
    expect(partitionFiles(dir).map((f) => f.name.slice(0, 2))).toEqual(['c-']);
    expect(existsSync(first?.path as string)).toBe(true);
  });
});

describe('entries named dt=… in lake/events that are no partition', () => {
  it('are left out of queries and loads, and a loader that starts names them in its log', async () => {
    const { config, layout, wal, loader, ids, engine, metrics } = await setup();
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    const [file] = partitionFiles(join(layout.events, 'dt=2026-11-20'));
    // A file under a partition's name failed every query and load with ENOTDIR (and inlet start);
    // a folder whose name is no day failed every query that read dt ("Unable to cast 'garbage'").
    writeFileSync(join(layout.events, 'dt=2026-11-21'), 'x');
    for (const name of ['dt=garbage', 'dt=2026-02-30', 'dt=2026-11-20.bak']) {
      mkdirSync(join(layout.events, name));
      copyFileSync(file?.path as string, join(layout.events, name, 'part-0000000000000001.parquet'));
    }
    expect(await ids()).toEqual(['a']);
    expect((await engine.query('SELECT dt::VARCHAR, count(*)::INT FROM events GROUP BY 1')).rows).toEqual([
      ['2026-11-20', 1],
    ]);
    await wal.append(record('b'));
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'b']);
    const { logger, lines } = capturingLogger();
    const restarted = await createLoader({ config, layout, wal, logger, metrics });
    await restarted.stop();
    expect(
      lines.filter((line) => line.level === 40).map((line) => line.msg.split(' is no partition')[0]),
    ).toEqual(
      ['dt=2026-02-30', 'dt=2026-11-20.bak', 'dt=2026-11-21', 'dt=garbage'].map((name) =>
        join(layout.events, name),
      ),
    );
  });
});

describe('a symbolic link in a partition of lake/events', () => {
  it('is left out of queries and merges, and a loader that starts names it in its log', async () => {
    const { config, layout, wal, loader, ids, metrics } = await setup();
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    const dir = join(layout.events, 'dt=2026-11-20');
    const [file] = partitionFiles(dir);
    // A link to a file outside the lake, which the query engine may not read: every query, of any
    // table, failed with LAKE_UNREADABLE ("Permission Error: Cannot access file …link.parquet").
    const outside = join(layout.lake, '..', 'outside.parquet');
    copyFileSync(file?.path as string, outside);
    symlinkSync(outside, join(dir, 'link.parquet'));
    expect(await ids()).toEqual(['a']);
    for (const id of ['b', 'c']) {
      await wal.append(record(id));
      await loader.runOnce({ sealNow: true });
    }
    expect(await ids()).toEqual(['a', 'b', 'c']);
    expect(lstatSync(join(dir, 'link.parquet')).isSymbolicLink()).toBe(true);
    const { logger, lines } = capturingLogger();
    const restarted = await createLoader({ config, layout, wal, logger, metrics });
    await restarted.stop();
    expect(lines.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
      `${join(dir, 'link.parquet')} is a symbolic link, which inlet does not read (the query engine reads files inside the lake alone), so its rows are not queried; copy the file itself into the lake, or move the link out`,
    ]);
  });
});

describe('a file where lake/_rejects/damaged or lake/_rejects/foreign should be', () => {
  it('is named when a damaged file or a file of another table is to be moved there, and nothing shows', async () => {
    const { layout, wal, loader, engine } = await setup();
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    const dir = join(layout.events, 'dt=2026-11-20');
    mkdirSync(layout.rejects, { recursive: true });
    const inTheWay = (folder: string) => ({
      code: 'LAKE_UNREADABLE',
      message: `The lake's tables cannot be read or written: ${join(layout.rejects, folder)} is a file where inlet keeps a folder of the lake. Move what is there out of the lake, or restore the lake from a backup.`,
    });
    // Said as "The lake's tables cannot be read, so no query can run (ENOTDIR: not a directory, mkdir …)".
    writeFileSync(join(layout.rejects, 'damaged'), 'x');
    writeFileSync(join(dir, 'part-0000000000000098.parquet'), '');
    await expect(engine.query('SELECT * FROM events')).rejects.toMatchObject(inTheWay('damaged'));
    rmSync(join(dir, 'part-0000000000000098.parquet'));
    writeFileSync(join(layout.rejects, 'foreign'), 'x');
    const db = await DuckDBInstance.create(':memory:');
    cleanups.push(() => db.closeSync());
    await (await db.connect()).run(`COPY (SELECT 1 AS n) TO '${join(dir, 'data.parquet')}' (FORMAT parquet)`);
    await expect(engine.query('SELECT * FROM events')).rejects.toMatchObject(inTheWay('foreign'));
  });
});

describe('what a load cut short left in data/tmp', () => {
  it('is removed when a loader starts, and only that: its segment loads once', async () => {
    const { config, layout, wal, metrics, ids } = await setup();
    await wal.append(record('a'));
    await wal.seal();
    // A load killed after staging its file, and one killed while it read a cleaned copy of its
    // segment: each load stages under its group's first segment, so these were never removed.
    const staged = join(layout.tmp, 'load', '0000000000000001', 'dt=2026-11-20');
    mkdirSync(staged, { recursive: true });
    writeFileSync(join(staged, 'data_0.parquet'), 'PAR1 half-written');
    const copies = ['clean', 'lines', 'repaired'].map((ext) =>
      join(layout.tmp, `segment-0000000000000001.${ext}`),
    );
    for (const copy of copies) writeFileSync(copy, '{}\n');
    const others = [join(layout.tmp, 'load', 'notes.txt'), join(layout.tmp, 'segment-1.clean')];
    for (const other of others) writeFileSync(other, "not inlet's");
    const loader = await createLoader({ config, layout, wal, logger: createSilentLogger(), metrics });
    cleanups.push(() => loader.stop());
    expect(existsSync(join(layout.tmp, 'load', '0000000000000001'))).toBe(false);
    expect(copies.filter((copy) => existsSync(copy))).toEqual([]);
    expect(others.filter((other) => existsSync(other))).toEqual(others);
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a']);
  });
});

describe('a Parquet file of another table in a partition of lake/events', () => {
  /** Writes a Parquet file of another table (one column n) into dt=2026-11-20; its path in the lake. */
  const foreignFile = async (lake: DataLayout, name: string) => {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    await connection.run(
      `COPY (SELECT 1 AS n) TO '${join(lake.events, 'dt=2026-11-20', name)}' (FORMAT parquet)`,
    );
    connection.closeSync();
    db.closeSync();
    return join('events', 'dt=2026-11-20', name);
  };

  it('is moved to lake/_rejects/foreign by the query that finds it, and its rows and columns stay out of events', async () => {
    const { config, layout: lake, wal, loader } = await setup();
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    const file = await foreignFile(lake, 'data.parquet');
    const moved: MovedFile[] = [];
    const engine = await createQueryEngine({ config, layout: lake, onDamagedFile: (m) => moved.push(m) });
    cleanups.push(() => engine.close());
    // It showed as an event with every column empty, and its column n in events.
    const result = await engine.query('SELECT * FROM events');
    expect(result.rows.map((row) => row[0])).toEqual(['a']);
    expect(result.columns.map((c) => c.name)).not.toContain('n');
    expect(moved).toEqual([{ file, movedTo: join('_rejects', 'foreign', file), foreign: true }]);
    expect(damagedFileMessage(moved[0] as MovedFile)).toContain('is no file of the events table');
    expect(existsSync(join(lake.lake, '_rejects', 'foreign', file))).toBe(true);
  });

  it('does not stop loads that check the partition for repeats, nor is merged into its files', async () => {
    const { layout: lake, wal, loader, engine } = await setup({ loader: { compact_min_files: 2 } });
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    const file = await foreignFile(lake, 'part-0000000000000099.parquet');
    await wal.append(record('a'));
    await wal.append(record('b'));
    // Every load failed with "schema mismatch in glob: column "received_at" … could not be found";
    // then the merge took its row into the partition's merged file, as an event, and removed it.
    await loader.runOnce({ sealNow: true });
    expect(listSegments(lake.walEvents)).toHaveLength(1);
    expect(partitionFiles(join(lake.events, 'dt=2026-11-20')).map((f) => f.name.slice(0, 2))).toEqual(['c-']);
    const result = await engine.query('SELECT * FROM events ORDER BY event_id');
    expect(result.rows.map((row) => row[0])).toEqual(['a', 'b']);
    expect(result.columns.map((c) => c.name)).not.toContain('n');
    expect(existsSync(join(lake.lake, '_rejects', 'foreign', file))).toBe(true);
  });
});

describe('a Parquet file damaged inside', () => {
  const pagesEnd = (data: Buffer) => data.length - 8 - data.readUInt32LE(data.length - 8);
  /** Scrambles a file's footer metadata, or its pages, leaving its framing (PAR1, footer length) intact. */
  const damage = {
    footer: (data: Buffer) => {
      for (let i = data.length - 200; i < data.length - 100; i++) data[i] = (data[i] as number) ^ 0x55;
    },
    pages: (data: Buffer) => {
      for (let i = 4; i < pagesEnd(data); i++) data[i] = 0x41;
    },
  };

  it.each(Object.keys(damage) as Array<keyof typeof damage>)(
    'in its %s is moved to lake/_rejects/damaged by the query that finds it, which names it and reads the rest',
    async (part) => {
      const { config, layout, wal, loader } = await setup();
      await wal.append(record('a'));
      await loader.runOnce({ sealNow: true });
      const [file] = partitionFiles(join(layout.events, 'dt=2026-11-20'));
      await wal.append(record('b'));
      await loader.runOnce({ sealNow: true });
      const data = readFileSync(file?.path as string);
      damage[part](data);
      writeFileSync(file?.path as string, data);
      const moved: string[] = [];
      const engine = await createQueryEngine({ config, layout, onDamagedFile: (m) => moved.push(m.file) });
      cleanups.push(() => engine.close());
      // Every query of events failed with LAKE_UNREADABLE naming no file (footer), or with
      // QUERY_INVALID and DuckDB's "Failed to read file … ZSTD Decompression failure" (pages).
      const rows = (await engine.query('SELECT event_id, properties FROM events')).rows;
      expect(rows.map((row) => row[0])).toEqual(['b']);
      const name = `events/dt=2026-11-20/${file?.name}`;
      expect(moved).toEqual([name]);
      expect(existsSync(file?.path as string)).toBe(false);
      expect(existsSync(join(layout.rejects, 'damaged', name))).toBe(true);
    },
  );

  it('is moved out of the lake by the merge that reads it, and the partition is merged', async () => {
    const { layout, wal, loader, ids } = await setup({ loader: { compact_min_files: 3 } });
    for (const id of ['a', 'b']) {
      await wal.append(record(id));
      await loader.runOnce({ sealNow: true });
    }
    const [file] = partitionFiles(join(layout.events, 'dt=2026-11-20'));
    const data = readFileSync(file?.path as string);
    damage.pages(data);
    writeFileSync(file?.path as string, data);
    await wal.append(record('c'));
    // The merge failed with "Failed to read file …: ZSTD Decompression failure" every minute.
    await loader.runOnce({ sealNow: true });
    expect(existsSync(join(layout.rejects, 'damaged', 'events', 'dt=2026-11-20', file?.name as string))).toBe(
      true,
    );
    await wal.append(record('d'));
    await loader.runOnce({ sealNow: true });
    expect(partitionFiles(join(layout.events, 'dt=2026-11-20')).map((f) => f.name.slice(0, 2))).toEqual([
      'c-',
    ]);
    expect(await ids()).toEqual(['b', 'c', 'd']);
  });
});

describe("the loader's DuckDB instance", () => {
  /** A loader with the given recycling thresholds, an engine over its lake, and how often it recycled. */
  const recyclingLoader = async (recycling: { recycleAfterRows?: number; recycleBusyAfterRows?: number }) => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    const layout = dataLayout(config.data_dir);
    const wal = createWalWriter({ dir: layout.walEvents, segmentBytes: 1 << 20, maxBytes: 1 << 30 });
    const { logger, lines } = capturingLogger('debug');
    const loader = await createLoader({
      config,
      layout,
      wal,
      logger,
      metrics: createMetrics(),
      ...recycling,
    });
    const engine = await createQueryEngine({ config, layout });
    cleanups.push(temp.cleanup, async () => {
      await loader.stop();
      await wal.close();
      engine.close();
    });
    const recycled = () => lines.filter((line) => line.msg.startsWith('opened a new DuckDB instance')).length;
    return { layout, wal, loader, engine, recycled };
  };

  it('is replaced by a new one at an idle pass once it has loaded enough, and the new one loads as well', async () => {
    const { layout, wal, loader, engine, recycled } = await recyclingLoader({ recycleAfterRows: 2 });
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    await loader.runOnce();
    expect(recycled()).toBe(0);
    await wal.append(record('b') + record('c', '2026-11-21T23:30:00.000Z'));
    await loader.runOnce({ sealNow: true });
    expect(recycled()).toBe(0);
    await loader.runOnce();
    expect(recycled()).toBe(1);
    // The new instance has the loader's settings: UTC partitions, and it loads and dedups as before.
    await wal.append(record('d', '2026-11-21T23:59:59.000Z') + record('a'));
    await loader.runOnce({ sealNow: true });
    expect(readdirSync(layout.events).sort()).toEqual(['dt=2026-11-20', 'dt=2026-11-21']);
    expect((await engine.query('SELECT event_id FROM events ORDER BY 1')).rows.flat()).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
  });

  it('is replaced after a busy pass too once it has loaded recycleBusyAfterRows, and loads on', async () => {
    const { wal, loader, engine, recycled } = await recyclingLoader({ recycleBusyAfterRows: 3 });
    await wal.append(record('a') + record('b'));
    await loader.runOnce({ sealNow: true });
    expect(recycled()).toBe(0);
    // A pass that loads (never idle) and brings the instance to 3 rows replaces it at its end.
    await wal.append(record('c'));
    await loader.runOnce({ sealNow: true });
    expect(recycled()).toBe(1);
    // The new instance dedups against what the old one wrote.
    await wal.append(record('d') + record('a'));
    await loader.runOnce({ sealNow: true });
    expect((await engine.query('SELECT event_id FROM events ORDER BY 1')).rows.flat()).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
  });
});

describe('a finished merge whose inputs are still on disk', () => {
  it('is read without its inputs, so the events view counts each event once', async () => {
    const { layout, wal, loader, engine } = await setup({ loader: { compact_min_files: 100 } });
    for (const id of ['a', 'b', 'c']) {
      await wal.append(record(id));
      await loader.runOnce({ sealNow: true });
    }
    const dir = join(layout.events, 'dt=2026-11-20');
    const inputs = partitionFiles(dir).map((f) => f.name);
    expect(inputs).toHaveLength(3);
    // The moment between the merged file's rename and the removal of its inputs.
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT * FROM read_parquet([${inputs.map((name) => `'${join(dir, name)}'`).join(', ')}])) TO '${join(dir, 'c-9.parquet')}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    writeFileSync(join(dir, '.compact-c-9.inputs'), JSON.stringify(inputs));
    expect(partitionFiles(dir).map((f) => f.name)).toEqual(['c-9.parquet']);
    expect((await engine.query('SELECT count(*)::INTEGER FROM events')).rows).toEqual([[3]]);
  });
});

/**
 * Loads a, then b, into the partition of 2026-11-20 with the merge of the two blocked by a
 * directory where it would write; returns the partition and the blocker, to remove to let it run.
 */
async function loadWithMergeBlocked({ layout, wal, loader }: Awaited<ReturnType<typeof setup>>) {
  const dir = join(layout.events, 'dt=2026-11-20');
  await wal.append(record('a'));
  await loader.runOnce({ sealNow: true });
  const [first] = partitionFiles(dir).map((f) => f.name);
  // Where the merge of the next two files would write: a directory there fails it.
  const blocker = join(
    dir,
    `.c-${String(Number(/\d+/.exec(first as string)?.[0]) + 1).padStart(16, '0')}.parquet.tmp`,
  );
  mkdirSync(blocker);
  await wal.append(record('b'));
  await loader.runOnce({ sealNow: true });
  expect(partitionFiles(dir)).toHaveLength(2);
  return { dir, blocker };
}

describe('a compaction that fails', () => {
  it('is logged and tried again later while loading goes on', async () => {
    const { logger, lines } = capturingLogger();
    const loading = await setup({ loader: { compact_min_files: 2 } }, 1 << 20, {
      logger,
      compactRetryMs: 0,
    });
    const { wal, loader, ids } = loading;
    const { dir, blocker } = await loadWithMergeBlocked(loading);
    expect(lines.some((l) => l.level === 50 && l.msg.startsWith('compacting a partition failed'))).toBe(true);
    expect(await ids()).toEqual(['a', 'b']);
    rmSync(blocker, { recursive: true });
    await wal.append(record('x', '2026-11-21T10:00:00.000Z'));
    await loader.runOnce({ sealNow: true });
    expect(partitionFiles(dir).map((f) => f.name)).toEqual([expect.stringMatching(/^c-/)]);
    expect(await ids()).toEqual(['a', 'b', 'x']);
  });

  it('is tried again after its wait by the time that passed, when the clock jumped back meanwhile', async () => {
    const loading = await setup({ loader: { compact_min_files: 2 } }, 1 << 20, { compactRetryMs: 200 });
    const { dir, blocker } = await loadWithMergeBlocked(loading);
    rmSync(blocker, { recursive: true });
    // NTP steps the clock back an hour: the retry waited for the wall clock to reach it again.
    const wall = Date.now;
    const back = vi.spyOn(Date, 'now').mockImplementation(() => wall() - 3_600_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await loading.loader.runOnce();
      expect(partitionFiles(dir).map((f) => f.name)).toEqual([expect.stringMatching(/^c-/)]);
    } finally {
      back.mockRestore();
    }
  });

  it('a failed load pass still deletes partitions past their retention', async () => {
    const { layout, wal, loader } = await setup({ retention: { events_days: 30 } });
    const old = join(
      layout.events,
      `dt=${new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10)}`,
    );
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'part-1.parquet'), 'x');
    // A file where the load must make a partition directory fails every load into it.
    writeFileSync(join(layout.events, 'dt=2026-11-20'), 'not a directory');
    await wal.append(record('a'));
    await expect(loader.runOnce({ sealNow: true })).rejects.toThrow();
    expect(existsSync(old)).toBe(false);
  });
});

// Root reads any file, so the loader runs as nobody, in the fixture that loads and compacts.
const UNREADABLE = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'lake', 'compact-unreadable.ts');

describe.skipIf(!nobodyCanRun(UNREADABLE))('a compaction that fails on a file inlet may not read', () => {
  it('names the file and what to do once, not at every retry, and merges once it can read it', async () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    chmodSync(temp.dir, 0o777);
    const out = await stdoutOf(
      process.execPath,
      [await bundledFixture(UNREADABLE), join(temp.dir, 'data')],
      AS_NOBODY,
    );
    const { closed, passes, files, logged } = JSON.parse(out) as {
      closed: string;
      passes: string[];
      files: { whileClosed: string[]; reopened: string[] };
      logged: { level: number; msg: string; file?: string }[];
    };
    expect(passes).toEqual(['ok', 'ok', 'ok', 'ok']);
    // Each retry logged 'compacting a partition failed; …' again, its cause in the error alone.
    expect(logged).toEqual([
      {
        level: 50,
        msg: `the files of partition dt=2026-11-20 cannot be merged: inlet's user may not read ${closed} (permission denied); give it the lake's files (chown -R the data directory to the user inlet runs as), or move that file out of the lake; loading goes on, and the merge is tried again quietly until it works or fails otherwise`,
        file: closed,
      },
    ]);
    expect(files).toEqual({
      whileClosed: ['part-0000000000000001.parquet', 'part-0000000000000002.parquet'],
      reopened: ['c-0000000000000002.parquet'],
    });
  }, 60_000);
});

describe('id filters a crash left half-written', () => {
  it('are removed when the loader starts', async () => {
    const { config, layout, wal, loader, metrics } = await setup();
    await wal.append(record('a'));
    await loader.runOnce({ sealNow: true });
    const dir = join(layout.events, 'dt=2026-11-20');
    const [file] = partitionFiles(dir);
    const half = `${idFilterPath(file?.path as string)}.tmp`;
    writeFileSync(half, 'IDF1');
    const restarted = await createLoader({ config, layout, wal, logger: createSilentLogger(), metrics });
    await restarted.stop();
    expect(existsSync(half)).toBe(false);
    expect(readIdFilter(file?.path as string)).toBeDefined();
  });
});

describe('the events view over WAL records whose checksum is wrong', () => {
  /** The record of id in a segment, changed in place as a disk would: the same length, still JSON. */
  const corruptInPlace = (path: string, from: string, to: string) => {
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(from);
    writeFileSync(path, text.replace(from, to));
  };

  it('shows no such record, sealed or in the open segment, before loading as after', async () => {
    const { layout, wal, loader, ids, engine, metrics } = await setup();
    await wal.append(record('a') + record('b') + record('c'));
    await wal.seal();
    const [sealed] = wal.sealedSegments();
    // A changed letter in a text, in a sealed segment.
    corruptInPlace(segmentPath(layout.walEvents, sealed as number), '"n":"b"', '"n":"q"');
    await wal.append(
      walRecord({ event_id: 'd', ts: '2026-11-20T10:00:00.000Z', properties: { n: 12345 } }) + record('e'),
    );
    const [open] = listSegments(layout.walEvents).slice(-1);
    // A flipped digit in a number, in the segment the collector writes to.
    corruptInPlace(segmentPath(layout.walEvents, open as number), '"n":12345', '"n":12845');
    expect(await ids()).toEqual(['a', 'c', 'e']);
    // The open segment grows past the corrupt record: what follows is read, the record still not.
    await wal.append(record('f'));
    expect(listSegments(layout.walEvents).slice(-1)).toEqual([open]);
    expect(await ids()).toEqual(['a', 'c', 'e', 'f']);
    expect((await engine.query('SELECT count(*)::INTEGER FROM events')).rows).toEqual([[4]]);
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'c', 'e', 'f']);
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="corrupt"\} 2$/m);
    expect(
      lakeRejects(layout, 'events').map((r) => [
        r.reason,
        r.raw.includes('"n":"q"') || r.raw.includes('12845'),
      ]),
    ).toEqual([
      ['checksum mismatch', true],
      ['checksum mismatch', true],
    ]);
  });

  it('shows none of a segment all corrupt, one of zero bytes or torn tails; the loader keeps and counts them', async () => {
    const { layout, wal, loader, ids, metrics } = await setup();
    const sealed = async (bytes: string) => {
      await wal.append(record('placeholder'));
      await wal.seal();
      writeFileSync(segmentPath(layout.walEvents, wal.sealedSegments().at(-1) as number), bytes);
    };
    await sealed(record('a').replace('"n":"a"', '"n":"x"') + record('b').replace('"n":"b"', '"n":"y"'));
    await sealed('');
    // A whole record but for its newline after a good one, and a record cut short alone.
    await sealed(record('c') + record('torn').slice(0, -1));
    await sealed(record('d').slice(0, 40));
    wal.refresh();
    await wal.append(record('e'));
    expect(await ids()).toEqual(['c', 'e']);
    await loader.runOnce({ sealNow: true });
    expect(wal.sealedSegments()).toEqual([]);
    expect(await ids()).toEqual(['c', 'e']);
    // Torn tails (a crash) apart from checksum mismatches (disk damage), so an alert can tell them apart.
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="corrupt"\} 2$/m);
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="torn"\} 2$/m);
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="unreadable"\} 0$/m);
    expect(metrics.render()).toMatch(/^inlet_loader_rows_total 2$/m);
    const kept = lakeRejects<{ segment: number; offset: number }>(layout, 'events').sort(
      (x, y) => x.segment - y.segment || x.offset - y.offset,
    );
    const torn = 'torn: the last line has no newline, a write cut short (a crash, a full disk)';
    expect(kept.map((r) => r.reason)).toEqual(['checksum mismatch', 'checksum mismatch', torn, torn]);
    expect(kept.every((r) => typeof r.segment === 'number' && typeof r.offset === 'number')).toBe(true);
    expect(kept.map((r) => r.raw.match(/"event_id":"(\w+)"/)?.[1])).toEqual(['a', 'b', 'torn', 'd']);
  });

  it('leaves out a segment holding a bad line whose checksum DuckDB may read otherwise, until it is loaded', async () => {
    const { layout, wal, loader, ids } = await setup();
    await wal.append(record('a'));
    await wal.seal();
    const path = segmentPath(layout.walEvents, wal.sealedSegments()[0] as number);
    // Its keys swapped and a trailing comma: not JSON to JSON.parse, a record to DuckDB's reader.
    const [, c, body] = /^\{"c":"(\w+)","e":(.*)\}\n$/.exec(record('b').replace('"n":"b"', '"n":"z"')) ?? [];
    appendFileSync(path, `{"e":${body},"c":"${c}",}\n`);
    await wal.append(record('c'));
    expect(await ids()).toEqual(['c']);
    await loader.runOnce({ sealNow: true });
    expect(await ids()).toEqual(['a', 'c']);
  });
});
