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
  /** The columns a DuckDB SELECT returns, with their types. */
  describe(select: string): Promise<Array<{ name: string; type: string }>>;
  /** The first value of a query as text, or undefined when it is NULL or there is no row. */
  scalar(sql: string): Promise<string | undefined>;
  close(): void;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

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
    `delim=',', quote='"', escape='"', nullstr='', allow_quoted_nulls=false, ` +
    `max_line_size=${MAX_ROW_BYTES}, buffer_size=${MAX_ROW_BYTES * 2})`
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
  const copy = async (select: string, outPath: string) => {
    const reader = await connection.runAndReadAll(`COPY (${select}) TO ${sqlString(outPath)} (${PARQUET})`);
    return Number(reader.getRows()[0]?.[0] ?? 0);
  };
  return {
    writeCsv: (csvPath, columns, outPath) =>
      copy(`SELECT ${spoolSelectList(columns)} FROM ${spoolReadSql(csvPath, columns)}`, outPath),
    writeSelect: copy,
    async describe(select) {
      const rows = (await connection.runAndReadAll(`DESCRIBE ${select}`)).getRows();
      return rows.map((row) => ({ name: String(row[0]), type: String(row[1]) }));
    },
    async scalar(sql) {
      const value = (await connection.runAndReadAll(sql)).getRows()[0]?.[0];
      return value === null || value === undefined ? undefined : String(value);
    },
    close() {
      connection.closeSync();
      closeDuckDB(instance);
    },
  };
}
