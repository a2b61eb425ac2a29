// What DuckDB's failure to read a run's files means, in the user's terms: the file, the line and what to change.
import { basename } from 'node:path';
import { InletError, isInletError } from '../../errors/index.ts';
import type { TableRun } from '../extractor/index.ts';
import type { CsvTable } from './csv-config.ts';
import { findNotUtf8 } from './csv-file-encoding.ts';
import type { CsvBatch, CsvJobContext } from './csv-job-context.ts';
import {
  NOT_UTF8,
  readHint,
  setEncoding,
  TYPED_COLUMN_MISSING,
  typeName,
  UNKNOWN_TYPE,
  withoutDuckDbAdvice,
} from './csv-read-hints.ts';
import { NOTHING_IMPORTED, openQuoteRefused, tsvUnquotedRefused } from './csv-refusals.ts';
import { findLongRecord, findMixedLineBreak, findOpenQuote, findRaggedRecord } from './csv-shape.ts';
import { csvDelimiter, MAX_ROW_BYTES, needsDecoding, readSql } from './csv-type-mapping.ts';
import { DUPLICATE_KEY, duplicateKey, type LineOf, NOT_RECORDS, notRecords } from './json-refusals.ts';

/** Throws the error a failed read of the batch's files is to the user: the file and line at fault, and what to do. */
export async function explainReadError(
  job: CsvJobContext,
  run: TableRun,
  batch: CsvBatch,
  lineOf: LineOf,
  error: unknown,
): Promise<never> {
  const { table, where, configFile } = job;
  const { readable, todo } = batch;
  // Interrupted by a stop, the file is not at fault: looking through it for why took seconds more.
  if (isInletError(error) || run.signal.aborted) throw error;
  const message = (error as Error).message;
  if (NOT_RECORDS.test(message)) throw await notRecords(where, readable, todo, table.format, lineOf);
  const twice = DUPLICATE_KEY.exec(message);
  if (twice) throw await duplicateKey(where, twice, readable, todo, lineOf);
  await refuseTypes(job, run, batch, message);
  const duckDbSaid = () => inUserTerms(message, batch, lineOf);
  await refuseDelimitedFile(job, batch, lineOf, duckDbSaid);
  await refuseLongRecord(job, batch, lineOf, message);
  await refuseNotUtf8(job, batch, lineOf, message);
  throw new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: could not read ${todo.map((f) => basename(f.path)).join(', ')} as ${table.format} (${table.encoding})${readHint(message, table, configFile)}: ${await duckDbSaid()}`,
  );
}

/** Refuses types: that names a column the files lack, or gives one a type DuckDB does not know. */
async function refuseTypes(
  job: CsvJobContext,
  run: TableRun,
  batch: CsvBatch,
  message: string,
): Promise<void> {
  const { table, where, configFile } = job;
  const { readable, todo } = batch;
  // DuckDB's binder words, "Column "x" in REPLACE list not found in FROM clause" for JSON, named
  // neither inlet.yaml's key nor the columns there are.
  if (table.types && TYPED_COLUMN_MISSING.test(message)) {
    const columns = (await run.writer.describe(readSql(readable, { ...table, types: undefined }))).map(
      (column) => column.name,
    );
    const missing = Object.keys(table.types).filter((name) => !columns.includes(name));
    if (missing.length > 0)
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: types: names the column${missing.length > 1 ? 's' : ''} ${missing.map((name) => JSON.stringify(name)).join(', ')}, which ${todo.map((f) => basename(f.path)).join(', ')} does not have; ` +
          `its columns are ${columns.join(', ')}. Correct the name under types: for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
      );
  }
  // DuckDB's catalog words, "Type with name INTEGR does not exist! Did you mean "JSON"?", named
  // neither the column nor inlet.yaml's key.
  const unknownType = UNKNOWN_TYPE.exec(message)?.[1];
  const typed =
    unknownType &&
    Object.entries(table.types ?? {}).find(([, type]) => typeName(type) === unknownType.toUpperCase());
  if (typed)
    throw new InletError(
      'SOURCE_DATA_INVALID',
      `${where}: types: gives the column ${JSON.stringify(typed[0])} the type ${typed[1]}, which DuckDB does not know; ` +
        `give it one such as VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP or DECIMAL(12,2) for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
    );
}

/** DuckDB's message in the user's terms: the line and the file its export's, its advice left out. */
async function inUserTerms(message: string, batch: CsvBatch, lineOf: LineOf): Promise<string> {
  const { readable, todo } = batch;
  // DuckDB names the file and line; the temporary UTF-8 copy is named after the original. Its
  // line is one of what it read, which for lines appended to a file is not the file's.
  const csvLine = /CSV Error on Line: (\d+)/.exec(message);
  const read = readable.indexOf(/\n\s*file = (.*)/.exec(message)?.[1] ?? '');
  let said =
    csvLine && read !== -1
      ? message.replace(csvLine[0], `CSV Error on Line: ${await lineOf(read, Number(csvLine[1]))}`)
      : message;
  // DuckDB's JSON reader names the file it read, which for one decoded or without its byte
  // order mark is inlet's copy in data/tmp: the export is named instead.
  for (const [i, path] of readable.entries())
    if (path !== todo[i]?.path) said = said.replaceAll(`"${path}"`, `"${todo[i]?.path}"`);
  return withoutDuckDbAdvice(said);
}

/** Refuses a CSV or TSV file with a quote left open, mixed line breaks, or a line of another field count. */
async function refuseDelimitedFile(
  job: CsvJobContext,
  batch: CsvBatch,
  lineOf: LineOf,
  duckDbSaid: () => Promise<string>,
): Promise<void> {
  const { table, where, configFile } = job;
  const { readable, todo } = batch;
  // A CSV file is read with quoting, so a quote left open fails it. A TSV file's quoting is
  // DuckDB's guess, none for a file with a quote left open, which is then what likely failed it.
  if (table.format === 'csv' || table.format === 'tsv')
    for (const [i, path] of readable.entries()) {
      const line = await findOpenQuote(path, {
        delimiter: csvDelimiter(table),
        skip: table.skip,
      }).catch(() => undefined);
      if (line === undefined) continue;
      const file = basename(todo[i]?.path ?? '');
      throw table.format === 'csv'
        ? openQuoteRefused(where, file, await lineOf(i, line))
        : tsvUnquotedRefused(where, file, await lineOf(i, line), await duckDbSaid());
    }
  if (table.format === 'csv' || table.format === 'tsv')
    for (const [i, path] of readable.entries()) {
      const mixed = await findMixedLineBreak(path, {
        delimiter: csvDelimiter(table),
        skip: table.skip,
      }).catch(() => undefined);
      if (!mixed) continue;
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: line ${await lineOf(i, mixed.line)} of ${basename(todo[i]?.path ?? '')} ends in ${mixed.found} where the lines before it end in ${mixed.first}, ` +
          'as a file joined or edited by Windows and Unix programs does, and DuckDB reads one kind a file; ' +
          `save it with one kind (dos2unix, or unix2dos, does it). ${NOTHING_IMPORTED}`,
      );
    }
  if (table.format === 'csv' || table.format === 'tsv') {
    const ragged = await firstRaggedRecord(readable, table).catch(() => undefined);
    if (ragged) {
      const { file, line, fields, expected } = ragged;
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: line ${await lineOf(file, line)} of ${basename(todo[file]?.path ?? '')} has ${fields} field${fields === 1 ? '' : 's'} where ${table.header ? 'the header' : 'the first line'} has ${expected}; ` +
          `every line needs as many (a field that holds "${csvDelimiter(table)}" must be in double quotes). ` +
          `If the file uses another delimiter, set delimiter: for this table in ${configFile}; if lines above the header are not data, set skip: (docs/csv.md).`,
      );
    }
  }
}

// DuckDB's words for a record longer than its CSV reader reads, and the start of the record it quotes.
const LINE_SIZE = /Maximum line size of \d+ bytes exceeded/;
const ORIGINAL_LINE = /Original Line: ([^\n]{0,200})([^\n]?)/;

/**
 * Refuses a CSV or TSV file with a record longer than DuckDB reads (8 MB), naming the line it
 * starts on: DuckDB's "CSV Error on Line: 1" is the first line of what its reader had under way.
 */
async function refuseLongRecord(job: CsvJobContext, batch: CsvBatch, lineOf: LineOf, message: string) {
  const { table, where, configFile } = job;
  if ((table.format !== 'csv' && table.format !== 'tsv') || !LINE_SIZE.test(message)) return;
  const options = { delimiter: csvDelimiter(table), skip: table.skip };
  const long = await firstFound(batch.readable, (path) => findLongRecord(path, options, MAX_ROW_BYTES));
  if (!long) return;
  const quoted = ORIGINAL_LINE.exec(message);
  const start = quoted ? `; it starts ${JSON.stringify(quoted[1])}${quoted[2] ? '…' : ''}` : '';
  const { file, found } = long;
  throw new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: line ${await lineOf(file, found.line)} of ${basename(batch.todo[file]?.path ?? '')} starts a row of ${found.bytes.toLocaleString('en-US')} bytes, ` +
      `more than the ${MAX_ROW_BYTES.toLocaleString('en-US')} (8 MB) a row of a CSV or TSV file may hold${start}. ` +
      'If a quote there opens a field that should have ended sooner, correct it; a value that long is to be left out of the export or cut short, ' +
      `or the table exported as JSON lines (format: ndjson for this table in ${configFile}), whose values may be longer. ${NOTHING_IMPORTED}`,
  );
}

/** Refuses a file that is not UTF-8 where the table reads UTF-8, naming its first such line. */
async function refuseNotUtf8(job: CsvJobContext, batch: CsvBatch, lineOf: LineOf, message: string) {
  const { table, where, configFile } = job;
  // DuckDB's line for a file that is not UTF-8 is where its reader was, often the header.
  if (needsDecoding(table.encoding) || !NOT_UTF8.test(message)) return;
  const notUtf8 = await firstFound(batch.readable, findNotUtf8);
  if (!notUtf8) return;
  const { file, found } = notUtf8;
  const { line, character, byte } = found;
  throw new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: line ${await lineOf(file, line)} of ${basename(batch.todo[file]?.path ?? '')} is not UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at character ${character}); ` +
      `${setEncoding(configFile)}. Nothing was imported and the table keeps its rows.`,
  );
}

/** The first of the files (by index) in which `find` finds something, and what it found; a file it fails on is passed over. */
async function firstFound<T>(paths: string[], find: (path: string) => Promise<T | undefined>) {
  for (const [file, path] of paths.entries()) {
    const found = await find(path).catch(() => undefined);
    if (found !== undefined) return { file, found };
  }
  return undefined;
}

/** The first file (by index) with a record of another field count than its first, and that record. */
async function firstRaggedRecord(paths: string[], table: CsvTable) {
  for (const [file, path] of paths.entries()) {
    const ragged = await findRaggedRecord(path, { delimiter: csvDelimiter(table), skip: table.skip });
    if (ragged) return { file, ...ragged };
  }
  return undefined;
}
