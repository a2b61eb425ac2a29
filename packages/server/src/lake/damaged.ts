import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { removeIdFilter } from './id-filter.ts';
import { type DataLayout, fileInTheWay, sqlString } from './layout.ts';

/**
 * DuckDB's words for a Parquet file that is not one (empty, cut short, overwritten), each naming
 * the file. Damage inside a file's pages or footer metadata ("TProtocolException", "Variable-length
 * int over 10 bytes") names no file, so it is reported, not acted on.
 */
const DAMAGED = [
  /File '([^']+)' too small to be a Parquet file/,
  /No magic bytes found at end of file '([^']+)'/,
  /Footer length error in file '([^']+)'/,
];

const MAGIC = 'PAR1';

/**
 * Whether a file fails Parquet's framing: "PAR1" at both ends, and a footer length that fits. The
 * file's own bytes decide, never an error message alone: a query can raise any message it likes
 * (error('No magic bytes … ')), and must not get a good file moved out of the lake by it.
 */
export function failsParquetFraming(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 12) return true;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    readSync(fd, head, 0, 4, 0);
    readSync(fd, tail, 0, 8, size - 8);
    if (head.toString('latin1') !== MAGIC || tail.toString('latin1', 4) !== MAGIC) return true;
    return tail.readUInt32LE(0) + 12 > size;
  } finally {
    closeSync(fd);
  }
}

export interface MovedFile {
  /** The damaged file's path relative to the lake, e.g. events/dt=2026-12-01/part-….parquet. */
  file: string;
  /** Where it went: under lake/_rejects/damaged/ (or foreign/), with the same relative path. */
  movedTo: string;
  /** Not damaged but a Parquet file of another table, with none of the events table's keys (lake/foreign.ts). */
  foreign?: true;
}

/**
 * When DuckDB's error names a visible Parquet file of the lake that is not a Parquet file, moves
 * that file to lake/_rejects/damaged/ (same relative path, kept for a look) and returns what it
 * moved; otherwise undefined. Every view and every loader read lists the lake anew, so the next
 * attempt reads the rest: one damaged file stops failing every query of its table, the way
 * ClickHouse detaches a broken part. Files inlet writes appear only whole (written under a
 * temporary name, fsynced, renamed), so a file here that fails Parquet's framing is damage, not a
 * race; the framing is checked on the file itself before anything moves.
 */
export function moveDamagedFile(layout: DataLayout, message: string): MovedFile | undefined {
  for (const pattern of DAMAGED) {
    const path = pattern.exec(message)?.[1];
    if (path === undefined) continue;
    const absolute = resolve(path);
    const lake = resolve(layout.lake);
    const rejects = resolve(layout.rejects);
    if (!absolute.startsWith(lake + sep) || absolute.startsWith(rejects + sep)) return undefined;
    if (!absolute.endsWith('.parquet') || !existsSync(absolute) || !failsParquetFraming(absolute))
      return undefined;
    return moveOut(layout, absolute);
  }
  return undefined;
}

/**
 * Moves a file of the lake to lake/_rejects/<folder>/ (damaged/, or foreign/ for a file of another
 * table) under its relative path, with its id filter.
 */
export function moveOut(
  layout: DataLayout,
  absolute: string,
  folder: 'damaged' | 'foreign' = 'damaged',
): MovedFile {
  const lake = resolve(layout.lake);
  const file = relative(lake, absolute);
  let movedTo = join(layout.rejects, folder, file);
  for (let n = 1; existsSync(movedTo); n++) movedTo = join(layout.rejects, folder, `${file}.${n}`);
  try {
    mkdirSync(dirname(movedTo), { recursive: true });
  } catch (error) {
    // A file where lake/_rejects/<folder> or a folder below it should be: named, not ENOTDIR.
    throw fileInTheWay(layout, dirname(movedTo)) ?? error;
  }
  renameSync(absolute, movedTo);
  removeIdFilter(absolute);
  return { file, movedTo: relative(lake, resolve(movedTo)), ...(folder === 'foreign' && { foreign: true }) };
}

/**
 * DuckDB's words for damage inside a Parquet file whose framing is intact. Its footer's metadata
 * ("Invalid Error: TProtocolException: Invalid data") names no file; its pages ("Invalid Input
 * Error: Failed to read file "…": ZSTD Decompression failure") do.
 */
export const DAMAGED_INSIDE = /^Invalid Error: |TProtocolException|Variable-length int over 10 bytes/m;
const DAMAGED_PAGES = /^Invalid Input Error: Failed to read file "([^"]+)": /m;

/** Whether DuckDB's error says a Parquet file is damaged inside (its metadata or its pages). */
export const damagedInside = (message: string) => DAMAGED_INSIDE.test(message) || DAMAGED_PAGES.test(message);

/** DuckDB's words for a file of the lake this user may not read: no race, nor passing. */
export const NO_PERMISSION = /Cannot open file "([^"]+)": Permission denied/;

/** What to do about a file of the lake inlet's user may not read. */
export const noPermissionAdvice = (path: string) =>
  `inlet's user may not read ${path} (permission denied); give it the lake's files (chown -R the data directory to the user inlet runs as), or move that file out of the lake`;

/** Runs one statement over the lake (a DuckDB connection that may read it), failing as DuckDB does. */
export type LakeReader = (sql: string) => Promise<unknown>;

/** The visible Parquet files of the lake, outside lake/_rejects (dot files are being written). */
function lakeParquetFiles(layout: DataLayout): string[] {
  const rejects = resolve(layout.rejects);
  const out: string[] = [];
  for (const name of readdirSync(layout.lake, { recursive: true, encoding: 'utf8' })) {
    const path = resolve(layout.lake, name);
    if (!name.endsWith('.parquet') || basename(path).startsWith('.') || path.startsWith(rejects + sep))
      continue;
    if (statSync(path, { throwIfNoEntry: false })?.isFile()) out.push(path);
  }
  return out.sort();
}

/** How much of a file a search reads: its footer's metadata, or every value of it too. */
type ReadDepth = 'footer' | 'whole';

/**
 * Whether reading path alone (to depth) fails as a file damaged inside does: DuckDB's Thrift
 * errors, or its "Failed to read file" naming path. good remembers files read without fault (by
 * path, inode, size and time), which are not read again.
 */
async function damagedAlone(
  path: string,
  depth: ReadDepth,
  read: LakeReader,
  good: Map<string, ReadDepth>,
): Promise<boolean> {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats?.isFile()) return false;
  const id = `${path}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  const known = good.get(id);
  if (known === 'whole' || known === depth) return false;
  const file = sqlString(path);
  try {
    await read(
      depth === 'footer'
        ? `SELECT count(*) FROM parquet_metadata(${file})`
        : `SELECT max(hash(t)) FROM read_parquet(${file}) AS t`,
    );
    good.set(id, depth);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    return DAMAGED_INSIDE.test(message) || DAMAGED_PAGES.exec(message)?.[1] === path;
  }
}

/**
 * Moves out of the lake the Parquet file damaged inside that DuckDB's error is about, as
 * moveDamagedFile does for one that is not Parquet at all, and returns what it moved; otherwise
 * undefined. The file's own bytes decide, read alone through read(): the file DuckDB names (damaged
 * pages) must fail again when each of its values is read; when it names none (damaged metadata or
 * page headers), the lake's files are read one by one, their footers first, then whole, until one
 * fails so. A failure of the moment (memory, I/O, an interrupt) moves nothing.
 */
export async function moveDamagedInside(
  layout: DataLayout,
  message: string,
  read: LakeReader,
  good: Map<string, ReadDepth>,
): Promise<MovedFile | undefined> {
  const named = DAMAGED_PAGES.exec(message)?.[1];
  if (named === undefined && !DAMAGED_INSIDE.test(message)) return undefined;
  const lake = resolve(layout.lake);
  const inLake = (path: string) =>
    path.startsWith(lake + sep) &&
    !path.startsWith(resolve(layout.rejects) + sep) &&
    path.endsWith('.parquet');
  if (named !== undefined) {
    const path = resolve(named);
    return inLake(path) && (await damagedAlone(path, 'whole', read, good))
      ? moveOut(layout, path)
      : undefined;
  }
  const files = lakeParquetFiles(layout);
  for (const depth of ['footer', 'whole'] as const)
    for (const path of files) if (await damagedAlone(path, depth, read, good)) return moveOut(layout, path);
  return undefined;
}

/** What to tell an operator of a moved file. */
export function damagedFileMessage(moved: MovedFile): string {
  if (moved.foreign)
    return `${moved.file} is no file of the events table (it has no event_id or received_at column: a Parquet file of another table copied in, say) and was moved to lake/${moved.movedTo}, so its rows are neither queried as events nor merged into the partition's files; put it where it belongs, outside lake/events`;
  return `${moved.file} is not a readable Parquet file (empty, cut short or overwritten) and was moved to lake/${moved.movedTo}; queries no longer see its rows: restore it from a backup, or load its source again`;
}
