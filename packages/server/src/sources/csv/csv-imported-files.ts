// Deciding which of a table's files, or which bytes of them, a sync imports, and what it remembers of them.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  type CsvBytes,
  EMPTY_DIGEST,
  type FileScan,
  firstLines,
  linesBefore,
  prefixDigests,
  scanFile,
} from './csv-file-scan.ts';
import { MAX_ROW_BYTES } from './csv-type-mapping.ts';

/** A matched file: its path and `size:mtime`, which tells most changes apart without reading it. */
export interface StampedFile {
  path: string;
  stamp: string;
}

/** The bytes [from, to) of a file that a run imports. */
export interface FilePart {
  file: StampedFile;
  from: number;
  to: number;
  /**
   * The part is the whole file, which is read as it is. A file changed within SETTLED_MS is read from
   * a copy of its part even then: lines a writer appends while DuckDB reads it would be read now
   * and again from where the part ends, at the next sync.
   */
  whole: boolean;
}

/**
 * A last line without its line break, in a file unchanged this long, is the end of an export
 * written without one, not a line still being written: it is imported.
 */
export const SETTLED_MS = 60_000;

/**
 * What is remembered of an imported file: `size:mtime:sha256` of the whole file, then, when what
 * was imported of it ends before its end (a last line still being written), `:offset:sha256` of
 * the bytes up to there, and for a CSV or TSV file `:line`, the line of the quote the lines after
 * them wait for (0 for none). Files remembered before the digest was kept are `size:mtime`.
 */
interface Remembered {
  stamp: string;
  size: number;
  digest?: string | undefined;
  offset: number;
  prefix?: string | undefined;
  /** Undefined where it was not kept (a JSON lines file, an entry from before it was). */
  quoteLine?: number | undefined;
}

function parse(entry: string): Remembered {
  const [size = '', mtime = '', digest, offset, prefix, quoteLine] = entry.split(':');
  const whole = Number(size);
  return {
    stamp: `${size}:${mtime}`,
    size: whole,
    digest,
    offset: offset === undefined ? whole : Number(offset),
    prefix: prefix ?? digest,
    quoteLine: quoteLine === undefined ? undefined : Number(quoteLine),
  };
}

function remember(stamp: string, digest: string, offset: number, prefix: string, quoteLine?: number) {
  if (offset === Number(stamp.split(':')[0])) return `${stamp}:${digest}`;
  return `${stamp}:${digest}:${offset}:${prefix}${quoteLine === undefined ? '' : `:${quoteLine}`}`;
}

/** A file whose lines from `line` on wait for the quote that opens a quoted field there to close. */
export interface QuoteWait {
  file: StampedFile;
  /** 1-based. */
  line: number;
}

/** A file that holds the bytes imported from a file of another name, gone or rewritten since. */
export interface RenamedFile {
  file: StampedFile;
  /** The key of the file whose imported bytes it starts with. */
  was: string;
}

/** How a table's files are read to find where what is imported of them ends. */
type FileShape = CsvBytes & {
  /** The lines above a file's first row (skip: and the header), which files share. */
  headLines: number;
};

/** What filesToImport answers. */
interface FilesFound {
  todo: FilePart[];
  remembered: Record<string, string>;
  again: StampedFile[];
  renamed: RenamedFile[];
  /** Files whose lines wait for a quoted field to close, which is not yet a fault. */
  waiting: QuoteWait[];
}

/** One call of filesToImport: what its steps read, and its answer, which they fill in as they go. */
interface Sync {
  now: number;
  key: (file: StampedFile) => string;
  shape: FileShape;
  found: FilesFound;
}

/** A file that does not start with what was imported under its name, if anything was. */
interface Unmatched {
  file: StampedFile;
  was: Remembered | undefined;
  /** The scan from its start, when it was scanned from there. */
  scan?: FileScan | undefined;
}

/** What was imported of a file gone or rewritten, under its key. */
interface FreeImport {
  key: string;
  was: Remembered;
}

/**
 * The parts of files an `incremental` or `merge` table has still to import, what to remember of
 * every file once they are, the files imported before that are imported again in full, and the
 * files recognised as renamed.
 *
 * Whole files (those that cannot be resumed, `resume` false: a .json file, one in UTF-16 or
 * UTF-32): a file whose time alone changed (copied again without its times, re-downloaded, touched)
 * holds the rows imported already, so it is not imported again; one whose bytes changed is imported
 * again in full.
 *
 * Resumed files (the others, `incremental` or `merge`): a file that still starts with the bytes
 * imported from it (a daily export that grows, `>>` from a cron job) has only its complete lines
 * after them imported. Its last line without a line break waits, as it may be half written, until it
 * has one or the file has not changed for SETTLED_MS; so does an empty file, an export begun. A file
 * of a new name that starts with the bytes imported from a file gone or rewritten since (logrotate's
 * rename, `mv`) is that file renamed, and is resumed as it would have been. A file that no longer
 * starts with them (rewritten, cut short) is imported again in full, as a new file.
 */
export async function filesToImport(
  files: StampedFile[],
  imported: Record<string, string>,
  key: (file: StampedFile) => string,
  resume: boolean,
  shape: FileShape = { headLines: 0 },
): Promise<FilesFound> {
  const found: FilesFound = { todo: [], remembered: { ...imported }, again: [], renamed: [], waiting: [] };
  const sync: Sync = { now: Date.now(), key, shape, found };
  if (!resume) {
    for (const file of files) await importIfBytesChanged(sync, file, rememberedOf(imported, key(file)));
    return answer(sync, files, new Set());
  }
  const { unmatched, kept } = await resumeInPlace(sync, files, imported);
  const claimed = await importUnmatched(sync, unmatched, goneImports(imported, kept));
  return answer(sync, files, claimed);
}

function rememberedOf(imported: Record<string, string>, key: string): Remembered | undefined {
  const entry = imported[key];
  return entry === undefined ? undefined : parse(entry);
}

/** Whether a file last changed at `mtime` has been still for SETTLED_MS at the sync. */
const settledAt = (sync: Sync, mtime: number) => sync.now - mtime >= SETTLED_MS;

/**
 * A file read whole: imported in full when its bytes changed since it was imported, not when its
 * time alone did, and named in `again` when an earlier import of it is known by its digest.
 */
async function importIfBytesChanged(sync: Sync, file: StampedFile, was: Remembered | undefined) {
  if (was?.stamp === file.stamp) return;
  const size = Number(file.stamp.split(':')[0]);
  const { digest } = await scanFile(file.path, 0);
  sync.found.remembered[sync.key(file)] = `${file.stamp}:${digest}`;
  if (was?.digest === digest && was.size === size) return;
  if (was?.digest !== undefined) sync.found.again.push(file);
  sync.found.todo.push({ file, from: 0, to: size, whole: true });
}

/**
 * Resumes each file from where what was imported under its name ends; returns the files that do not
 * start with it (or had nothing imported), and the keys of the others.
 */
async function resumeInPlace(sync: Sync, files: StampedFile[], imported: Record<string, string>) {
  const unmatched: Unmatched[] = [];
  const kept = new Set<string>();
  for (const file of files) {
    const left = await resumeFile(sync, file, rememberedOf(imported, sync.key(file)));
    if (left === undefined) kept.add(sync.key(file));
    else unmatched.push(left);
  }
  return { unmatched, kept };
}

/** Resumes one file in place; returns it, unmatched, when it does not start with what was imported. */
async function resumeFile(sync: Sync, file: StampedFile, was: Remembered | undefined) {
  if (was?.stamp === file.stamp) {
    // An entry of size and time alone, kept before digests were, has nothing to resume from.
    if (was.digest !== undefined) await importIfDue(sync, file, was, was.digest);
    return undefined;
  }
  const scan = await scanFile(file.path, was?.prefix === undefined ? 0 : was.offset, sync.shape);
  if (was?.prefix === undefined) return { file, was, scan } satisfies Unmatched;
  if (scan.prefix !== was.prefix) return { file, was } satisfies Unmatched;
  importFrom(sync, file, was, scan);
  return undefined;
}

/** Unchanged since the last sync: only a last line left waiting may be due. */
async function importIfDue(sync: Sync, file: StampedFile, was: Remembered, digest: string) {
  const [size, mtime] = file.stamp.split(':').map(Number) as [number, number];
  const settled = settledAt(sync, mtime);
  if (was.offset < size && settled) {
    sync.found.remembered[sync.key(file)] = remember(file.stamp, digest, size, digest);
    sync.found.todo.push({ file, from: was.offset, to: size, whole: was.offset === 0 });
  } else if (size === 0 && settled) sync.found.todo.push({ file, from: 0, to: 0, whole: true });
  else if (was.offset < size && sync.shape.delimiter) await stillWaiting(sync, file, was, digest);
}

/**
 * Still waiting: for a line break, or for a quote, which is said at every sync it holds lines, as
 * found when the file last changed. An entry from before that was kept is read once.
 */
async function stillWaiting(sync: Sync, file: StampedFile, was: Remembered, digest: string) {
  if (was.quoteLine !== undefined) {
    if (was.quoteLine > 0) sync.found.waiting.push({ file, line: was.quoteLine });
    return;
  }
  const { openQuote } = await scanFile(file.path, was.offset, sync.shape);
  const line = quoteLine(sync, file, openQuote);
  sync.found.remembered[sync.key(file)] = remember(
    file.stamp,
    digest,
    was.offset,
    was.prefix ?? digest,
    line,
  );
}

/** The line of a quote left open in a file, if one is, with what waits for it; else 0. */
function quoteLine(sync: Sync, file: StampedFile, open: { line: number } | undefined): number {
  if (open === undefined) return 0;
  sync.found.waiting.push({ file, line: open.line });
  return open.line;
}

/** Imports a file from where what was imported of it ends (`was`, resumed) or from its start. */
function importFrom(sync: Sync, file: StampedFile, was: Remembered | undefined, scan: FileScan) {
  const mtime = Number(file.stamp.split(':')[1]);
  const settled = settledAt(sync, mtime);
  const from = was?.offset ?? 0;
  const { to, prefix } = importEnd(from, was, scan, settled);
  const waiting = to < scan.size ? quoteLine(sync, file, scan.openQuote) : 0;
  // Kept for a CSV or TSV file, whose wait each sync says without reading it while it is unchanged.
  const quote = sync.shape.delimiter ? waiting : undefined;
  sync.found.remembered[sync.key(file)] = remember(`${scan.size}:${mtime}`, scan.digest, to, prefix, quote);
  // An empty file may be an export begun, not yet written: it too waits for SETTLED_MS.
  if (to > from || (scan.size === 0 && settled))
    sync.found.todo.push({ file, from, to, whole: from === 0 && to === scan.size && (settled || to === 0) });
}

/**
 * Where what is imported of a file from `from` ends, and the SHA-256 of its bytes up to there: the
 * end of its last line, or of the file once it has been still for SETTLED_MS.
 */
function importEnd(from: number, was: Remembered | undefined, scan: FileScan, settled: boolean) {
  const to = Math.max(from, scan.lineEnd);
  // A quoted field left open for more than a row may hold is no row still being written but a
  // fault, which reading it names, rather than a wait while the file grows.
  if (to < scan.size && (settled || scan.size - to > MAX_ROW_BYTES))
    return { to: scan.size, prefix: scan.digest };
  return { to, prefix: to === from ? (was?.prefix ?? EMPTY_DIGEST) : scan.lineDigest };
}

/**
 * What was imported of files gone or rewritten, which a file of another name may start with. An
 * entry of no bytes (an empty file) is the start of every file.
 */
function goneImports(imported: Record<string, string>, kept: Set<string>): FreeImport[] {
  return Object.entries(imported)
    .filter(([k]) => !kept.has(k))
    .map(([k, entry]) => ({ key: k, was: parse(entry) }))
    .filter(({ was }) => was.prefix !== undefined && was.offset > 0);
}

/**
 * Imports each file that does not start with what was imported under its name: as the file it was,
 * renamed, when it starts with what was imported of one gone or rewritten, else in full as a new
 * file, in `again` when it was imported before. Returns the keys of the files renamed.
 */
async function importUnmatched(sync: Sync, unmatched: Unmatched[], free: FreeImport[]) {
  const claimed = new Set<string>();
  for (const { file, was, scan } of unmatched) {
    const rename = await renamedFrom(sync, file, free, claimed);
    if (rename !== undefined) {
      claimed.add(rename.from.key);
      sync.found.renamed.push({ file, was: rename.from.key });
      importFrom(sync, file, rename.from.was, rename.scan);
      continue;
    }
    if (was?.digest !== undefined) sync.found.again.push(file);
    importFrom(sync, file, undefined, scan ?? (await scanFile(file.path, 0, sync.shape)));
  }
  return claimed;
}

/**
 * The import, not yet `claimed` by another file, that a file starts with, and the file's scan from
 * where it ends: the file is the one imported, renamed (logrotate's rename, `mv`).
 */
async function renamedFrom(sync: Sync, file: StampedFile, free: FreeImport[], claimed: Set<string>) {
  const size = Number(file.stamp.split(':')[0]);
  // Bytes of no row (a header alone) are the start of every file of the table.
  const head = free.length > 0 ? (await firstLines(file.path, sync.shape.headLines)).length : 0;
  const candidates = free.filter(
    (c) => !claimed.has(c.key) && c.key !== sync.key(file) && c.was.offset <= size && c.was.offset > head,
  );
  const digests = await prefixDigests(
    file.path,
    candidates.map((c) => c.was.offset),
  );
  const match = candidates.find((c) => digests.get(c.was.offset) === c.was.prefix);
  if (match === undefined) return undefined;
  const scan = await scanFile(file.path, match.was.offset, sync.shape);
  return scan.prefix === match.was.prefix ? { from: match, scan } : undefined;
}

/**
 * The answer once every file is decided: the entries of files renamed that no file of their name
 * is left under are forgotten, and the parts are in the order of the files.
 */
function answer(sync: Sync, files: StampedFile[], claimed: Set<string>): FilesFound {
  const { found, key } = sync;
  const present = new Set(files.map(key));
  for (const k of claimed) if (!present.has(k)) delete found.remembered[k];
  const order = new Map(files.map((file, i) => [file, i]));
  found.todo.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0));
  return {
    todo: found.todo,
    remembered: found.remembered,
    // A file whose bytes moved to another name (logrotate's rename, then a new file under the old
    // name) is a new file, not one rewritten.
    again: found.again.filter((file) => !claimed.has(key(file))),
    renamed: found.renamed,
    waiting: found.waiting,
  };
}

/**
 * Writes a part of a file to `out`: its bytes [from, to), after its first `headLines` lines (the
 * lines skip: passes over and the header) when the part starts past them, so that it reads as the
 * file does. Returns `out`.
 */
export async function writeFilePart(part: FilePart, headLines: number, out: string): Promise<string> {
  const { file, to } = part;
  const head = await firstLines(file.path, headLines);
  const from = part.from <= head.length ? 0 : part.from;
  const write = createWriteStream(out);
  if (from > 0) write.write(head);
  await pipeline(createReadStream(file.path, { start: from, end: to - 1 }), write);
  return out;
}

/**
 * The line of the file that line `line` (1-based) of writeFilePart's copy of `part` is: the copy
 * holds the file's first `headLines` lines, then the part, so a fault in lines appended to a file is
 * named where the user finds it in the file, not where it is in the copy.
 */
export async function fileLine(part: FilePart, headLines: number, line: number): Promise<number> {
  if (part.whole || part.from === 0 || line <= headLines) return line;
  const head = await firstLines(part.file.path, headLines);
  if (part.from <= head.length) return line;
  return line - headLines + (await linesBefore(part.file.path, part.from));
}
