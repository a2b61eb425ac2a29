// Writing a run's files to the lake, and what the run has to say of them.
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { isInletError } from '../../errors/index.ts';
import { checkTableColumns, type TableRun } from '../extractor/index.ts';
import { refuseInfinity } from './csv-infinity.ts';
import type { CsvBatch, CsvJobContext } from './csv-job-context.ts';
import { mayHoldOpenQuote } from './csv-open-quote.ts';
import { tsvReadUnquoted } from './csv-refusals.ts';
import { findOpenQuote, firstRecordFields } from './csv-shape.ts';
import { csvDelimiter, readSql } from './csv-type-mapping.ts';
import type { LineOf } from './json-refusals.ts';

/**
 * A lone surrogate escape in JSON text ("\ud83d" with no low half after it, or a low half alone),
 * not one of an escaped pair and not text after an escaped backslash ("\\ud83d").
 */
const LONE_SURROGATE_ESCAPE =
  /(?<=(?:^|[^\\])(?:\\\\)*)(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})/g;

/**
 * A copy of a JSON export with its lone surrogate escapes written as \ufffd (U+FFFD), which DuckDB
 * can read; a line at a time, as JSON strings hold no raw newline, so memory holds one line.
 */
async function withoutLoneSurrogateEscapes(from: string, to: string): Promise<void> {
  const out = createWriteStream(to);
  const lines = createInterface({
    input: createReadStream(from, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines)
    if (!out.write(`${line.replace(LONE_SURROGATE_ESCAPE, '\\ufffd')}\n`)) await once(out, 'drain');
  out.end();
  await finished(out);
}

/** Writes the batch's readable files to the lake; returns the rows, the position to save and the notes. */
export async function writeAndRecord(job: CsvJobContext, run: TableRun, batch: CsvBatch, lineOf: LineOf) {
  const { source, table, where, configFile, delimited } = job;
  const { readable, todo, position, notes } = batch;
  // JSON with types: the columns DuckDB infers, the forced ones in their place, so that they
  // are read as such; a type for a column the files lack is left to the cast, which names it.
  const jsonColumns = async (paths: string[]) => {
    const forced = table.types ?? {};
    if (delimited || Object.keys(forced).length === 0) return undefined;
    const inferred = await run.writer.describe(readSql(paths, { ...table, types: undefined }));
    if (Object.keys(forced).some((name) => !inferred.some((c) => c.name === name))) return undefined;
    return inferred.map((c) => ({ name: c.name, type: forced[c.name] ?? c.type }));
  };
  // Whether DuckDB may have read a TSV file without quoting, for a quote left open in it.
  let readUnquoted = false;
  const write = async (paths: string[]) => {
    // A wider file passes over blank lines itself; its rows of NULL (",,") are rows of the export.
    const oneColumn =
      delimited &&
      paths.every(
        (path) => firstRecordFields(path, { delimiter: csvDelimiter(table), skip: table.skip }) === 1,
      );
    const select = readSql(paths, { ...table, oneColumn, jsonColumns: await jsonColumns(paths) });
    // Describing costs DuckDB one more pass over the files; only merge options need it.
    if (table.cursor || table.primaryKey || table.deletedColumn) {
      const columns = await run.writer.describe(select);
      checkTableColumns(
        source,
        table,
        columns.map((c) => ({ name: c.name, sourceType: c.type, csvType: c.type })),
      );
    }
    const part = run.nextPart();
    const rows = await run.writer.writeSelect(select, part);
    if (!delimited) await refuseInfinity(run.writer, part, where, todo, configFile);
    if (table.format === 'tsv') readUnquoted = await mayHoldOpenQuote(run.writer, part);
    return rows;
  };
  let rows: number;
  try {
    rows = await write(readable);
  } catch (error) {
    // A JSON export from a program that cut a string inside an emoji: DuckDB refuses the
    // half it kept. The files are read again with those halves as U+FFFD, as the collector does.
    if (isInletError(error) || !/Malformed JSON.*surrogate/s.test((error as Error).message)) throw error;
    mkdirSync(run.tmpDir, { recursive: true });
    const repaired: string[] = [];
    for (const [i, path] of readable.entries()) {
      const copy = join(run.tmpDir, `repaired-${i}-${basename(path)}`);
      await withoutLoneSurrogateEscapes(path, copy);
      repaired.push(copy);
    }
    rows = await write(repaired);
  }
  run.progress(rows);
  // A TSV file's quoting is DuckDB's guess, and with a quote left open it guesses none: the file
  // was imported with its quotes as text and not a word, where a CSV file is refused for it.
  // Its files are looked through for the quote only when what DuckDB read shows one may be.
  if (readUnquoted)
    for (const [i, path] of readable.entries()) {
      const line = await findOpenQuote(path, { delimiter: csvDelimiter(table), skip: table.skip });
      if (line === undefined) continue;
      const note = tsvReadUnquoted(where, basename(todo[i]?.path ?? ''), await lineOf(i, line));
      run.logger.warn({ path: todo[i]?.path, line }, note);
      notes.push(note);
    }
  return { rows, position, notes };
}
