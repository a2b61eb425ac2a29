import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { EVENT_STRUCT_SQL } from '../events/index.ts';
import type { Logger } from '../log/index.ts';
import { type BadRecord, type SkippedReason, segmentPath, withoutLoneSurrogates } from '../wal/index.ts';
import { copyByDay } from './copy-by-day.ts';
import { partitionFiles, partitions, partitionsChangedSince, publishAsync } from './files.ts';
import { type IdFilterCache, mergeIdFilters, removeIdFilter, writeIdFilter } from './id-filter.ts';
import { type DataLayout, sqlString } from './layout.ts';
import { checkSegmentHere, type SegmentCheck } from './segment-checker.ts';
import type { SegmentStats } from './segment-stats.ts';

export interface SegmentLoadResult {
  /** The first of the segments loaded together, which names their files. */
  segment: number;
  /** Every segment loaded together, in order. */
  segments: number[];
  rows: number;
  /** Rows dropped as repeats a client sent: retries, and ids repeated within the load. */
  duplicates: number;
  /** Rows of a segment loaded again after a crash, which its first load had written already. */
  reloaded: number;
  /** Records skipped, by why (the reason label of inlet_wal_corrupt_records_total). */
  skipped: Record<SkippedReason, number>;
  partitions: string[];
}

/** Rows per row group in the files a segment load writes (compaction writes larger ones). */
export const LOAD_ROW_GROUP = 10_240;

const HOUR_MS = 3_600_000;

const pad = (segment: number) => String(segment).padStart(16, '0');

/** data with the given byte ranges cut out. */
function withoutRanges(data: Buffer, ranges: BadRecord[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const range of ranges) {
    parts.push(data.subarray(at, range.start));
    at = range.end;
  }
  parts.push(data.subarray(at));
  return Buffer.concat(parts);
}

/** The same stats DuckDB's way, for a segment whose records the byte scan could not read. */
async function segmentStatsFromSql(connection: DuckDBConnection, source: string): Promise<SegmentStats> {
  const [rows, distinctIds, firstReceived, dts] = (
    await connection.runAndReadAll(
      `SELECT count(*)::INTEGER, count(DISTINCT event_id)::INTEGER, min(received_at)::VARCHAR, string_agg(DISTINCT dt::VARCHAR, ',') FROM ${source}`,
    )
  ).getRows()[0] as [number, number, string, string];
  return { rows, distinctIds, firstReceived, dts: dts.split(',') };
}

/**
 * Source SQL that reads framed WAL files (one path, or a list) as event rows. ignoreErrors is for
 * segments read before the loader checked them (the events view): a line it cannot parse is
 * skipped, and so is one of JSON that is no record (garbage appended by hand), which read_json
 * turned into a row of NULLs; leaveOut names the checksums of records whose checksum is wrong.
 */
export function walReadSql(path: string | string[], ignoreErrors = false, leaveOut: string[] = []): string {
  const paths = Array.isArray(path) ? `[${path.map(sqlString).join(', ')}]` : sqlString(path);
  const read = `SELECT e.* FROM read_json(${paths}, columns={c: 'VARCHAR', e: '${EVENT_STRUCT_SQL}'}, format='newline_delimited'`;
  if (!ignoreErrors) return `${read})`;
  const bad = leaveOut.length > 0 ? ` AND c NOT IN (${leaveOut.map(sqlString).join(', ')})` : '';
  return `${read}, ignore_errors=true) WHERE e IS NOT NULL AND c IS NOT NULL${bad}`;
}

/** Why a torn tail is kept, in words for whoever reads lake/_rejects (the checker says only 'torn'). */
const TORN_REASON = 'torn: the last line has no newline, a write cut short (a crash, a full disk)';

/** A sealed segment whose checksums were verified: what to read, and what is known of it already. */
export interface CheckedSegment {
  segment: number;
  segmentFile: string;
  /** The segment itself, or a copy without its corrupt records. */
  readPath: string;
  goodCount: number;
  /** Records left out, by why: torn tails, bad checksums or framing, records DuckDB cannot parse. */
  skipped: Record<SkippedReason, number>;
  stats: SegmentStats | undefined;
}

/**
 * Verifies a sealed segment's checksums in JavaScript, gathering its stats on the way. Corrupt
 * records go to lake/_rejects/events with the reason, and the rest to a clean copy for DuckDB.
 */
export async function checkSegment(options: {
  layout: DataLayout;
  segment: number;
  logger: Logger;
  /** Verifies the file and gathers its stats: on the loader's check thread, or here by default. */
  check?: (path: string) => Promise<SegmentCheck>;
}): Promise<CheckedSegment> {
  const { layout, segment } = options;
  const segmentFile = segmentPath(layout.walEvents, segment);
  let readPath = segmentFile;
  const verified = await (options.check ?? checkSegmentHere)(segmentFile);
  const goodCount = verified.lines - verified.bad.filter((r) => r.reason !== 'torn').length;
  if (verified.bad.length > 0) {
    // Corruption is rare, so only then is the whole segment read, to keep the bad lines and load the rest.
    const data = readFileSync(segmentFile);
    const bad = verified.bad.map((r) =>
      JSON.stringify({
        segment,
        offset: r.start,
        reason: r.reason === 'torn' ? TORN_REASON : r.reason,
        raw: data.toString('utf8', r.start, r.end).replace(/\n$/, ''),
      }),
    );
    keepRejected(layout, `segment-${pad(segment)}`, '.ndjson', bad);
    options.logger.warn(
      { segment, corrupt: bad.length },
      'corrupt WAL records skipped and kept in lake/_rejects/events',
    );
    readPath = join(layout.tmp, `segment-${pad(segment)}.clean`);
    mkdirSync(layout.tmp, { recursive: true });
    writeFileSync(readPath, withoutRanges(data, verified.bad));
  }
  return {
    segment,
    segmentFile,
    readPath,
    goodCount,
    skipped: {
      torn: verified.bad.length - (verified.lines - goodCount),
      corrupt: verified.lines - goodCount,
      unreadable: 0,
    },
    stats: verified.stats,
  };
}

/**
 * Writes rejected records, one JSON line each, to lake/_rejects/events/dt=<today>/<base><ext>, unless an
 * earlier try of the same load kept the same lines on another day: a load that failed and was tried
 * again after midnight kept its segment's rejects twice, so whoever replayed them counted them twice.
 * A name another segment of the same id took (the WAL folder wiped, its ids restarting at 1) is never
 * written over: the file goes to <base>-1<ext> and on.
 */
function keepRejected(layout: DataLayout, base: string, ext: string, lines: string[]): void {
  const root = join(layout.rejects, 'events');
  const text = `${lines.join('\n')}\n`;
  const family = new RegExp(`^${base}(-\\d+)?${ext.replaceAll('.', '\\.')}$`);
  for (const partition of partitions(root)) {
    const dir = join(root, partition);
    const names = readdirSync(dir).filter((name) => family.test(name));
    if (names.some((name) => holdsText(join(dir, name), text))) return;
  }
  const rejectDir = join(root, `dt=${new Date().toISOString().slice(0, 10)}`);
  mkdirSync(rejectDir, { recursive: true });
  writeFileSync(join(rejectDir, freeNames(rejectDir, base, ext).next().value as string), text);
}

/** Whether the file at path holds exactly text (false when there is none). */
function holdsText(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8') === text;
  } catch {
    return false;
  }
}

/** Whether a load failed on a record DuckDB cannot parse as JSON, though its checksum is good. */
export const isUnreadableRecord = (error: unknown): boolean =>
  error instanceof Error && error.message.includes('Malformed JSON');

/**
 * Rewrites segments that DuckDB could not read, so that one record cannot stop the loader for good:
 * a lone surrogate escape becomes U+FFFD (a WAL written before the collector did so itself, see
 * wal/record.ts), and a record DuckDB still cannot parse goes to lake/_rejects/events with the
 * line it was on. Returns the group reading the repaired copies, or undefined when nothing needed
 * repair (the failure is then another one).
 */
export async function repairSegments(options: {
  connection: DuckDBConnection;
  layout: DataLayout;
  checked: CheckedSegment[];
  logger: Logger;
}): Promise<CheckedSegment[] | undefined> {
  const { connection, layout } = options;
  let repairs = 0;
  const repaired: CheckedSegment[] = [];
  for (const checked of options.checked) {
    const { segment } = checked;
    const lines = readFileSync(checked.readPath, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    let longest = 0;
    const fixed = lines.map((line) => {
      const out = line.includes('\\ud') ? withoutLoneSurrogates(line) : line;
      if (out !== line) repairs++;
      longest = Math.max(longest, Buffer.byteLength(out));
      return out;
    });
    // DuckDB's own judgement of each line, read as text with its number (JSON escapes \u0001); a
    // line the CSV reader skips (a stray \u0001 in a record that is not JSON) is unreadable too.
    const numbered = join(layout.tmp, `segment-${pad(segment)}.lines`);
    mkdirSync(layout.tmp, { recursive: true });
    writeFileSync(numbered, fixed.map((line, i) => `${i}\u0001${line}\n`).join(''));
    const readable = new Set(
      (
        await connection.runAndReadAll(
          `SELECT n FROM read_csv(${sqlString(numbered)}, columns={'n': 'BIGINT', 'line': 'VARCHAR'}, ` +
            `delim='\u0001', quote='', escape='', header=false, auto_detect=false, ignore_errors=true, ` +
            `max_line_size=${Math.max(2 ** 21, 2 * longest + 64)}) WHERE json_valid(line)`,
        )
      )
        .getRows()
        .map((row) => Number(row[0])),
    );
    const unreadable = new Set([...fixed.keys()].filter((i) => !readable.has(i)));
    rmSync(numbered, { force: true });
    if (unreadable.size > 0) {
      const kept = [...unreadable]
        .sort((a, b) => a - b)
        .map((n) =>
          JSON.stringify({ segment, line: n + 1, reason: 'DuckDB cannot parse it as JSON', raw: fixed[n] }),
        );
      keepRejected(layout, `segment-${pad(segment)}`, '.unreadable.ndjson', kept);
      options.logger.warn(
        { segment, unreadable: unreadable.size },
        'WAL records DuckDB cannot parse skipped and kept in lake/_rejects/events',
      );
      repairs += unreadable.size;
    }
    const readPath = join(layout.tmp, `segment-${pad(segment)}.repaired`);
    writeFileSync(
      readPath,
      fixed
        .filter((_, i) => !unreadable.has(i))
        .map((line) => `${line}\n`)
        .join(''),
    );
    if (checked.readPath !== checked.segmentFile) rmSync(checked.readPath, { force: true });
    repaired.push({
      ...checked,
      readPath,
      goodCount: checked.goodCount - unreadable.size,
      skipped: { ...checked.skipped, unreadable: checked.skipped.unreadable + unreadable.size },
      // Ids may have changed with their surrogates, so the checker's stats and id hashes no longer hold.
      stats: undefined,
    });
  }
  if (repairs === 0) {
    for (const c of repaired) rmSync(c.readPath, { force: true });
    return undefined;
  }
  options.logger.warn(
    { segments: repaired.map((c) => c.segment), repairs },
    'repaired WAL segments DuckDB could not read',
  );
  return repaired;
}

/** File names in dir that no file has: base.parquet, then base-1.parquet, base-2.parquet… (or ext). */
function* freeNames(dir: string, base: string, ext = '.parquet'): Generator<string> {
  for (let i = 0; ; i++) {
    const name = `${base}${i === 0 ? '' : `-${i}`}${ext}`;
    if (!existsSync(join(dir, name))) yield name;
  }
}

/** The stats of segments loaded together, from each one's; undefined when one's are unknown. */
async function groupStats(group: CheckedSegment[]): Promise<SegmentStats | undefined> {
  const each = group.map((c) => c.stats);
  if (each.some((stats) => stats === undefined)) return undefined;
  const known = each as SegmentStats[];
  if (known.length === 1) return known[0];
  const hashes = known.map((stats) => stats.idHashes);
  const idHashes = hashes.every((h) => h !== undefined) ? await mergeIdFilters(hashes) : undefined;
  return {
    rows: known.reduce((sum, stats) => sum + stats.rows, 0),
    // An id repeated across two of the segments counts once, so the copy's QUALIFY drops the repeat.
    distinctIds: idHashes?.length ?? 0,
    firstReceived: known.map((stats) => stats.firstReceived).sort()[0] as string,
    dts: [...new Set(known.flatMap((stats) => stats.dts))],
    idHashes,
  };
}

/**
 * Moves checked segments, loaded together, into lake/events/dt=…/part-<first segment>.parquet.
 * Rows are deduplicated on (site, event_id) within the group and against every file the lake holds from
 * the dedup window, so a load writes only rows the lake does not have yet; each file is written
 * under a temporary name and renamed to a name no file has, never over one; only then are the
 * segments deleted. A crash at any point leaves the segments, or some of them, whose rows are in
 * the lake or not: loaded again, whatever the groups then, those already in a file are dropped and
 * the rest written once. A load never replaces a file: a group of one segment writing over the file
 * of an earlier group that began with it, after a crash that had deleted that group's later
 * segments but not its first (deletions deferred for queries run in any order), lost their rows.
 */
export async function copySegment(options: {
  connection: DuckDBConnection;
  layout: DataLayout;
  /** One segment, or several in order: a loader that is behind loads them in one copy (loader.ts). */
  checked: CheckedSegment[];
  dedupWindowHours: number;
  /** The lake's id filters, read through the loader's cache. */
  filters: IdFilterCache;
  /** Deletes the loaded segment; by default at once (the loader defers it while queries run). */
  remove?: (path: string) => Promise<void>;
}): Promise<SegmentLoadResult> {
  const { connection, layout } = options;
  const group = options.checked;
  const segment = (group[0] as CheckedSegment).segment;
  const goodCount = group.reduce((sum, c) => sum + c.goodCount, 0);
  const result: SegmentLoadResult = {
    segment,
    segments: group.map((c) => c.segment),
    rows: 0,
    duplicates: 0,
    reloaded: 0,
    skipped: {
      torn: group.reduce((sum, c) => sum + c.skipped.torn, 0),
      corrupt: group.reduce((sum, c) => sum + c.skipped.corrupt, 0),
      unreadable: group.reduce((sum, c) => sum + c.skipped.unreadable, 0),
    },
    partitions: [],
  };
  if (goodCount > 0) {
    const readPaths = group.filter((c) => c.goodCount > 0).map((c) => c.readPath);
    const source = `(${walReadSql(readPaths.length === 1 ? (readPaths[0] as string) : readPaths)})`;
    const {
      rows: total,
      distinctIds,
      firstReceived,
      dts,
      idHashes,
    } = (await groupStats(group)) ?? (await segmentStatsFromSql(connection, source));
    // The first copy of a retried event is most often in the retry's own day, but not always: the
    // time of each copy is corrected for its own clock skew, so two copies can fall on either side
    // of midnight. Any partition a file entered within the window may hold it.
    const windowStart = Date.parse(firstReceived) - options.dedupWindowHours * HOUR_MS;
    const days = new Set(dts.map((dt) => `dt=${dt}`));
    for (const partition of partitionsChangedSince(layout.events, windowStart || 0)) days.add(partition);
    const earlier = [...days].flatMap((partition) =>
      partitionFiles(join(layout.events, partition)).map((f) => f.path),
    );
    // A retry that arrived after its original was loaded is dropped here, so the lake holds one copy.
    // The id filters rule most segments out at once; otherwise DuckDB runs the NOT IN as a hash
    // anti-join inside the same streaming pass over the segment.
    options.filters.startPass();
    const mayRepeat =
      earlier.length > 0 &&
      (idHashes === undefined || earlier.some((path) => options.filters.mayShare(path, idHashes)));
    // By name, as queries and merges read the lake: a Parquet file of another table copied into a
    // partition (no received_at) failed every load with DuckDB's "schema mismatch in glob", for good.
    const lakeRows = (columns: string) =>
      `SELECT ${columns} FROM read_parquet([${earlier.map(sqlString).join(', ')}], union_by_name=true) ` +
      `WHERE received_at >= ${sqlString(firstReceived)}::TIMESTAMPTZ - INTERVAL ${options.dedupWindowHours} HOUR`;
    const filter = !mayRepeat ? '' : ` WHERE (site, event_id) NOT IN (${lakeRows('site, event_id')})`;
    const qualify =
      distinctIds < total
        ? ' QUALIFY row_number() OVER (PARTITION BY site, event_id ORDER BY received_at) = 1'
        : '';
    const staging = join(layout.tmp, 'load', pad(segment));
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(join(layout.tmp, 'load'), { recursive: true });
    const rows = `SELECT * FROM ${source}${filter}${qualify}`;
    const format = `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${LOAD_ROW_GROUP}`;
    const onlyDt = dts.length === 1 ? dts[0] : undefined;
    if (onlyDt !== undefined) mkdirSync(join(staging, `dt=${onlyDt}`), { recursive: true });
    // A segment is nearly always one day's events: then it goes to one file in that day's partition
    // without DuckDB's PARTITION_BY, a fifth less work; the file holds the same columns (no dt).
    if (onlyDt !== undefined) {
      const reader = await connection.runAndReadAll(
        `COPY (SELECT * EXCLUDE (dt) FROM (${rows})) TO ${sqlString(join(staging, `dt=${onlyDt}`, 'data_0.parquet'))} (${format})`,
      );
      result.rows = Number(reader.getRows()[0]?.[0] ?? 0);
    } else {
      result.rows = await copyByDay(connection, { select: rows, out: staging, format, days: dts });
    }
    // Every row was a repeat: no file, as PARTITION_BY would have written none.
    if (result.rows === 0) rmSync(staging, { recursive: true, force: true });
    for (const partition of existsSync(staging) ? readdirSync(staging).sort() : []) {
      const dir = join(layout.events, partition);
      mkdirSync(dir, { recursive: true });
      const names = freeNames(dir, `part-${pad(segment)}`);
      for (const file of readdirSync(join(staging, partition)).sort()) {
        const target = join(dir, names.next().value as string);
        // The filter first: a Parquet file is never visible with a filter that misses its ids.
        if (idHashes) writeIdFilter(target, idHashes);
        else removeIdFilter(target);
        await publishAsync(join(staging, partition, file), target, dir);
      }
      result.partitions.push(partition.slice(3));
    }
    rmSync(staging, { recursive: true, force: true });
    const dropped = goodCount - result.rows;
    // Only rows the lake held can be those of a segment loaded before; a segment with no such row
    // (nearly all of them) costs no second read.
    const loadedBefore =
      mayRepeat && dropped > 0 && dropped > total - distinctIds
        ? await segmentsLoadedBefore(connection, group, lakeRows('site, event_id, received_at'))
        : [];
    result.reloaded = Math.min(
      dropped,
      group.filter((c) => loadedBefore.includes(c.readPath)).reduce((sum, c) => sum + c.goodCount, 0),
    );
    result.duplicates = dropped - result.reloaded;
  }
  for (const { readPath, segmentFile } of group) {
    if (readPath !== segmentFile) rmSync(readPath, { force: true });
    // Off the event loop when there is no lease keeper to do it (see read-leases.ts).
    await (options.remove ?? rm)(segmentFile);
  }
  return result;
}

/**
 * The read paths of the segments in a group whose own records the lake already holds: loaded
 * before, by a load that crashed (or was killed) after writing its files and before deleting the
 * segment. A record the collector wrote once is in the lake with its very received_at, where a
 * client's retry is a record of its own, received later; so a segment with any such row was
 * loaded, and every row of it is dropped now because its first load wrote it or dropped it then.
 */
async function segmentsLoadedBefore(
  connection: DuckDBConnection,
  group: CheckedSegment[],
  lakeRows: string,
): Promise<string[]> {
  const paths = group.filter((c) => c.goodCount > 0).map((c) => c.readPath);
  const sql =
    `SELECT DISTINCT filename FROM read_json([${paths.map(sqlString).join(', ')}], ` +
    `columns={e: 'STRUCT(site VARCHAR, event_id VARCHAR, received_at TIMESTAMPTZ)'}, format='newline_delimited', filename=true) ` +
    `WHERE (e.site, e.event_id, e.received_at) IN (${lakeRows})`;
  return (await connection.runAndReadAll(sql)).getRows().map((row) => String(row[0]));
}

/** A copy of a segment the loader reads in its place (corrupt records left out, repaired, numbered). */
const SEGMENT_COPY = /^segment-\d{16}\.(clean|lines|repaired)$/;

/**
 * Removes what a load cut short (a crash, SIGKILL) left in data/tmp: its staged Parquet files
 * (tmp/load/<segment>/) and its copies of segments, which are never read again, as each load stages
 * anew under its group's first segment, and piled up there. Each is made again from its WAL segment,
 * which is deleted only after the load's files are in the lake and its staging is gone, so none
 * holds rows not yet loaded. For a loader that starts, holding the loader's lock: no other load runs.
 * Returns the paths removed, relative to data/tmp.
 */
export function removeLoadLeftovers(layout: DataLayout): string[] {
  const removed: string[] = [];
  const staged = join(layout.tmp, 'load');
  for (const name of existsSync(staged) ? readdirSync(staged) : []) {
    if (!/^\d{16}$/.test(name)) continue;
    rmSync(join(staged, name), { recursive: true, force: true });
    removed.push(join('load', name));
  }
  for (const name of existsSync(layout.tmp) ? readdirSync(layout.tmp) : []) {
    if (!SEGMENT_COPY.test(name)) continue;
    rmSync(join(layout.tmp, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Seconds since the oldest segment waiting to be loaded was sealed, 0 when none waits. */
export function loaderLagSeconds(layout: DataLayout, sealed: number[]): number {
  const oldest = sealed[0];
  if (oldest === undefined) return 0;
  try {
    return Math.max(0, (Date.now() - statSync(segmentPath(layout.walEvents, oldest)).mtimeMs) / 1000);
  } catch {
    return 0;
  }
}
