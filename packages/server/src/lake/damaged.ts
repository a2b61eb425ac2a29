import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { removeIdFilter } from './id-filter.ts';
import type { DataLayout } from './layout.ts';

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
  /** Where it went: under lake/_rejects/damaged/, with the same relative path. */
  movedTo: string;
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
    const file = relative(lake, absolute);
    let movedTo = join(rejects, 'damaged', file);
    for (let n = 1; existsSync(movedTo); n++) movedTo = join(rejects, 'damaged', `${file}.${n}`);
    mkdirSync(dirname(movedTo), { recursive: true });
    renameSync(absolute, movedTo);
    removeIdFilter(absolute);
    return { file, movedTo: relative(lake, movedTo) };
  }
  return undefined;
}

/** What to tell an operator of a moved file. */
export function damagedFileMessage(moved: MovedFile): string {
  return `${moved.file} is not a readable Parquet file (empty, cut short or overwritten) and was moved to lake/${moved.movedTo}; queries no longer see its rows: restore it from a backup, or load its source again`;
}
