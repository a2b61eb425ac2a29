// Checking a run's files' encodings and making the copies DuckDB reads: decoded to UTF-8, their
// skipped lines unquoted, a JSON file's byte order mark removed; and setting aside empty files.
import { accessSync, constants, createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import { InletError } from '../../errors/index.ts';
import type { TableRun } from '../extractor/index.ts';
import { isBlankFile } from './csv-blank-files.ts';
import { hasUtf8Bom, utf16Encoding } from './csv-file-encoding.ts';
import { unreadable } from './csv-file-list.ts';
import type { CsvBatch, CsvJobContext } from './csv-job-context.ts';
import { NOTHING_IMPORTED } from './csv-refusals.ts';
import { withSkippedLinesUnquoted } from './csv-skipped-lines.ts';
import { decoderName, needsDecoding } from './csv-type-mapping.ts';
import type { LineOf } from './json-refusals.ts';
import { isEmptyJsonArray } from './json-shape.ts';

/**
 * Decodes a file to UTF-8; returns the first line (1-based) that held bytes the encoding has no
 * character for, which iconv-lite decodes as U+FFFD (a UTF-8 export decoded as Shift_JIS, a Latin-1
 * one as CP932), if any. Encodings of Unicode may hold U+FFFD itself, so they are not looked at.
 */
async function decodeToUtf8(from: string, to: string, encoding: string): Promise<number | undefined> {
  const unicode = /^(utf|ucs|cesu)/i.test(encoding);
  let line = 1;
  let bad: number | undefined;
  const look = new Transform({
    decodeStrings: false,
    transform(chunk: string, _, done) {
      if (!unicode && bad === undefined) {
        const at = chunk.indexOf('\uFFFD');
        if (at !== -1) bad = line + (chunk.slice(0, at).match(/\n/g)?.length ?? 0);
        else line += chunk.match(/\n/g)?.length ?? 0;
      }
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(from),
    iconv.decodeStream(decoderName(encoding)),
    look,
    createWriteStream(to),
  );
  return bad;
}

/** Copies a file to `out` without its first three bytes, a UTF-8 byte order mark; returns `out`. */
async function withoutBom(path: string, out: string): Promise<string> {
  mkdirSync(dirname(out), { recursive: true });
  await pipeline(createReadStream(path, { start: 3 }), createWriteStream(out));
  return out;
}

/** Refuses a file inlet may not read, and one whose byte order mark says another encoding than the table's. */
export function checkEncodings(job: CsvJobContext, batch: CsvBatch): void {
  const { table, where, configFile } = job;
  const { todo, sources } = batch;
  for (const [i, file] of todo.entries()) {
    try {
      accessSync(file.path, constants.R_OK);
    } catch (error) {
      throw unreadable(where, error);
    }
    const source = sources[i] ?? file.path;
    const utf16 = needsDecoding(table.encoding) ? undefined : utf16Encoding(source);
    if (utf16)
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: ${basename(file.path)} is UTF-16 (it starts with a UTF-16 byte order mark, as Excel's "Unicode Text" export does), not UTF-8; ` +
          `set encoding: ${utf16} for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
      );
    // Decoded as the encoding set, its text became other characters, imported without a word.
    if (needsDecoding(table.encoding) && hasUtf8Bom(source))
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: ${basename(file.path)} is UTF-8 (it starts with a UTF-8 byte order mark, as Excel's "CSV UTF-8" export does), not ${table.encoding}; ` +
          `remove encoding: ${table.encoding} from this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
      );
  }
}

/** Replaces the batch's readable files with the copies DuckDB reads where it needs one. */
export async function readableCopies(
  job: CsvJobContext,
  run: TableRun,
  batch: CsvBatch,
  lineOf: LineOf,
): Promise<void> {
  const { table, where, configFile, delimited } = job;
  const { todo, sources } = batch;
  if (needsDecoding(table.encoding)) {
    mkdirSync(run.tmpDir, { recursive: true });
    batch.readable = [];
    for (const [i, file] of todo.entries()) {
      if (run.signal.aborted) throw new Error('cancelled');
      const utf8 = join(run.tmpDir, `${i}-${basename(file.path)}`);
      const bad = await decodeToUtf8(sources[i] ?? file.path, utf8, table.encoding);
      // Decoded anyway, its text became other characters and U+FFFD, imported without a word.
      if (bad !== undefined)
        throw new InletError(
          'SOURCE_DATA_INVALID',
          `${where}: line ${await lineOf(i, bad)} of ${basename(file.path)} holds bytes that are not ${table.encoding}, as a file in another encoding does (a UTF-8 export without a byte order mark, a Latin-1 one); ` +
            `set encoding: to the one it is in for this table in ${configFile} (utf-8, the default, for UTF-8; docs/csv.md). ${NOTHING_IMPORTED}`,
        );
      batch.readable.push(utf8);
    }
  }
  // DuckDB's skip passes over records, not lines: a quote on a line it skips ran to the end.
  if (delimited)
    for (const [i, path] of batch.readable.entries())
      batch.readable[i] = await withSkippedLinesUnquoted(
        path,
        table.skip,
        join(run.tmpDir, `skipped-${i}-${basename(path)}`),
      );
  // DuckDB's JSON reader refuses a UTF-8 byte order mark, which Windows programs write: "BOM
  // is not supported" (naming the line after it), and a .json array with one was taken for a
  // file of records that are not objects. A copy without it is read.
  if (!delimited && !needsDecoding(table.encoding))
    for (const [i, path] of batch.readable.entries())
      if (hasUtf8Bom(path))
        batch.readable[i] = await withoutBom(path, join(run.tmpDir, `${i}-${basename(path)}`));
}

/** Refuses empty files where they are an export cut short; passes over the rest (JSON lines). */
export function dropBlank(job: CsvJobContext, batch: CsvBatch): void {
  const { table, where, delimited } = job;
  // A JSON array of no records ([]) is such a file too: read with records=true, DuckDB refused it.
  const isBlank = batch.readable.map((path) => isBlankFile(path) || (!delimited && isEmptyJsonArray(path)));
  const blank = batch.todo.filter((_, i) => isBlank[i]);
  // A delimited file always has its header. A JSON lines file of a day without events may
  // have no line at all, and adds no row; but a full table's files hold all its rows, so an
  // empty one is an export cut short. DuckDB read either as a column "json" of no rows.
  if (blank.length > 0 && (delimited || table.mode === 'full'))
    throw new InletError(
      'SOURCE_DATA_INVALID',
      `${where}: ${blank.map((f) => basename(f.path)).join(', ')} ${blank.length === 1 ? 'is' : 'are'} empty (${delimited ? 'no header, no rows' : 'no records'}), ` +
        'as an export cut short or failed upstream leaves it; nothing was imported and the table keeps its rows. ' +
        (delimited
          ? 'Write the file again; a file with only its header line imports as a table of no rows.'
          : 'Write the file again.'),
    );
  if (blank.length > 0) {
    batch.readable = batch.readable.filter((_, i) => !isBlank[i]);
    batch.todo = batch.todo.filter((_, i) => !isBlank[i]);
    batch.parts = batch.parts.filter((_, i) => !isBlank[i]);
  }
}
