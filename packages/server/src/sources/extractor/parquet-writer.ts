import { mkdirSync } from 'node:fs';
import { closeDuckDB, openDuckDB } from '../../engine/allocator.ts';
import { sqlString } from '../../lake/index.ts';
import type { ColumnPlan } from './column-plan.ts';

/** Writes Parquet for sources with its own DuckDB, never the sandboxed query engine. */
export interface ParquetWriter {
  /** Converts one spooled CSV file (no header, columns in plan order) to a Parquet file; returns its rows. */
  writeCsv(csvPath: string, columns: ColumnPlan[], outPath: string): Promise<number>;
  /** Writes the rows of a DuckDB SELECT to a Parquet file; returns its rows. */
  writeSelect(select: string, outPath: string): Promise<number>;
  /**
   * Writes the rows of a DuckDB SELECT into a new directory as Parquet files of about fileBytes each
   * (data_0.parquet, data_1.parquet, …; none for no rows); returns the rows.
   */
  writeSelectFiles(select: string, outDir: string, fileBytes: number): Promise<number>;
  /** The columns a DuckDB SELECT returns, with their types. */
  describe(select: string): Promise<Array<{ name: string; type: string }>>;
  /** The first value of a query as text, or undefined when it is NULL or there is no row. */
  scalar(sql: string): Promise<string | undefined>;
  /** Stops the statement running now, which then fails ("Interrupted"). */
  interrupt(): void;
  close(): void;
}

/** Quotes one column name for SQL. */
export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

// A row longer than this fails loudly instead of being split. The reader's buffer must hold two rows;
// it is most of the writer's memory (32 MB buffers cost ~120 MB more at peak than 16 MB ones).
const MAX_ROW_BYTES = 8 * 1024 * 1024;
/**
 * Row groups of up to DuckDB's default 122,880 rows, but at most 16 MB of data each. The writer holds
 * a row group a thread and then a buffer as large as a column's chunk: with rows of 1.2 KB, 122,880-row
 * groups needed single allocations of 57–128 MB and failed with "Out of Memory" under the 192 MB limit
 * (400,000 rows: one copy in three; 60,000 rows under 128 MB: every time). 16 MB groups: no failure,
 * and the copy ran 3× faster (docs/benchmarks.md). Narrow rows still get 122,880-row groups.
 */
const PARQUET = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, ROW_GROUP_SIZE_BYTES '16MB'";

/** The read_csv call for a file spooled by the extractor: exact types, no guessing. */
export function spoolReadSql(csvPath: string, columns: ColumnPlan[]): string {
  const types = columns.map((c, i) => `'c${i}': ${sqlString(c.csvType)}`).join(', ');
  return (
    `read_csv(${sqlString(csvPath)}, columns={${types}}, header=false, auto_detect=false, ` +
    // new_line fixed: guessed, a carriage return inside a quoted value (text typed on Windows) made
    // DuckDB take \r\n for the row end, and the file failed as an unterminated quote.
    `delim=',', quote='"', escape='"', new_line='\\n', nullstr='', allow_quoted_nulls=false, ` +
    `max_line_size=${MAX_ROW_BYTES}, buffer_size=${MAX_ROW_BYTES * 2})`
  );
}

// DuckDB's words for a field the CSV reader could not parse as its column's type.
const CONVERSION = /Could not convert string "([\s\S]*?)" to '([^']+)'/;
const SPOOL_COLUMN = /column "c(\d+)"/;
// DuckDB's words for a value a column's convert (a CAST) refused, e.g. MySQL's DATE '2026-02-31'.
const CAST_FAILURE = /Conversion Error: ([^\n"]*?): "([\s\S]*?)" when casting from source column c(\d+)/;

// DuckDB's words for a row longer than MAX_ROW_BYTES; its message also holds the whole row.
const LINE_SIZE = /Maximum line size of \d+ bytes exceeded\. Actual Size:\s*(\d+) bytes/;
// DuckDB quotes the line it could not read, which may be megabytes: the message keeps its start.
const ORIGINAL_LINE = /Original Line: ([^\n]{201,})/g;

const asTextAdvice = (column: ColumnPlan) =>
  `copy that column as text with a query: for this table (e.g. SELECT …, ${(column.asText ?? '{}::text').replaceAll('{}', column.name)} AS ${column.name} FROM …)`;

/**
 * A failed spool conversion in the source's terms: DuckDB names the spool's field (c3) and dumps its
 * CSV reader's options, which say nothing to someone who configured a table. The column, its source
 * type and the value are what they need, and a way to copy such values anyway.
 */
export function spoolError(error: unknown, columns: ColumnPlan[]): Error {
  const message = (error as Error)?.message ?? String(error);
  // A column's own conversion that refused a value (error() in its plan) already says it all.
  const own = /^Invalid Input Error: (column [\s\S]*)$/.exec(message);
  if (own) return new Error(own[1], { cause: error });
  const long = LINE_SIZE.exec(message);
  if (long)
    return new Error(
      `a row is ${long[1]} bytes long as CSV, and the lake's writer reads rows of at most ${MAX_ROW_BYTES} bytes (8 MB); ` +
        'copy its long columns cut short or leave them out with a query: for this table (e.g. SELECT …, left(notes, 100000) AS notes FROM …)',
      { cause: error },
    );
  const cast = CAST_FAILURE.exec(message);
  const castColumn = cast ? columns[Number(cast[3])] : undefined;
  if (cast && castColumn)
    return new Error(
      `column ${castColumn.name} (${castColumn.sourceType}) holds "${(cast[2] ?? '').slice(0, 200)}", which the lake cannot hold (${cast[1]}); ${asTextAdvice(castColumn)}`,
      { cause: error },
    );
  const field = SPOOL_COLUMN.exec(message);
  const column = field ? columns[Number(field[1])] : undefined;
  const conversion = CONVERSION.exec(message);
  if (!column || !conversion) {
    const short = message.replace(
      ORIGINAL_LINE,
      (_, line: string) => `Original Line: ${line.slice(0, 200)}…`,
    );
    if (short === message) return error instanceof Error ? error : new Error(message);
    return new Error(short, { cause: error });
  }
  const value = (conversion[1] ?? '').slice(0, 200);
  return new Error(
    `column ${column.name} (${column.sourceType}) holds "${value}", which the lake's ${conversion[2]} cannot hold; ${asTextAdvice(column)}`,
    { cause: error },
  );
}

/** The SELECT list that turns spooled fields c0…cN into the lake's named, typed columns. */
export function spoolSelectList(columns: ColumnPlan[]): string {
  return columns
    .map((c, i) => `${c.convert ? c.convert.replaceAll('{}', `c${i}`) : `c${i}`} AS ${quoteIdent(c.name)}`)
    .join(', ');
}

/**
 * A dedicated in-memory DuckDB for writing: CSV parsing and Parquet encoding run in C++ on all
 * threads while JavaScript only moves bytes. Its memory is capped, and insertion order is not kept,
 * so a conversion streams instead of buffering.
 */
export async function createParquetWriter(options: {
  tmpDir: string;
  memoryLimit?: string;
  threads?: number;
}): Promise<ParquetWriter> {
  mkdirSync(options.tmpDir, { recursive: true });
  const instance = await openDuckDB({
    threads: String(options.threads ?? 2),
    memory_limit: options.memoryLimit ?? '192MB',
    preserve_insertion_order: 'false',
    temp_directory: options.tmpDir,
    autoinstall_known_extensions: 'false',
  });
  const connection = await instance.connect();
  // Timestamps with a time zone are written and compared in UTC whatever the machine's zone.
  await connection.run("SET TimeZone = 'UTC'");
  const copy = async (select: string, outPath: string, options = '') => {
    const reader = await connection.runAndReadAll(
      `COPY (${select}) TO ${sqlString(outPath)} (${PARQUET}${options})`,
    );
    return Number(reader.getRows()[0]?.[0] ?? 0);
  };
  return {
    async writeCsv(csvPath, columns, outPath) {
      try {
        return await copy(
          `SELECT ${spoolSelectList(columns)} FROM ${spoolReadSql(csvPath, columns)}`,
          outPath,
        );
      } catch (error) {
        throw spoolError(error, columns);
      }
    },
    writeSelect: copy,
    writeSelectFiles: (select, outDir, fileBytes) =>
      copy(select, outDir, `, FILE_SIZE_BYTES ${Math.max(1, Math.floor(fileBytes))}`),
    async describe(select) {
      const rows = (await connection.runAndReadAll(`DESCRIBE ${select}`)).getRows();
      return rows.map((row) => ({ name: String(row[0]), type: String(row[1]) }));
    },
    async scalar(sql) {
      const value = (await connection.runAndReadAll(sql)).getRows()[0]?.[0];
      return value === null || value === undefined ? undefined : String(value);
    },
    interrupt() {
      connection.interrupt();
    },
    close() {
      connection.closeSync();
      closeDuckDB(instance);
    },
  };
}
