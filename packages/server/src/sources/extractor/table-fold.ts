import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type LakeTable, mergeOrderSql, sqlString } from '../../lake/index.ts';
import { type ParquetWriter, quoteIdent } from './parquet-writer.ts';

/**
 * The fold of a merge table: every file read, one row per live key written.
 *
 * Ranked whole, the rows were held by the window in full, and 3 million rows of a wide table ran out
 * of the writer's 192 MB. So only each row's key, cursor and position (file and row, packed into one
 * BIGINT) are ranked, which DuckDB can spill, and the winning positions go to a file; the full rows
 * are then copied with a semi-join against FOLD_BATCH_ROWS of those positions at a time.
 */

/** At most this many rows are copied per pass; their positions are one pass's hash table. */
export const FOLD_BATCH_ROWS = 1_000_000;

/** Virtual columns of DuckDB's Parquet reader; a table's own column of that name hides them. */
const POSITION_COLUMNS = ['file_index', 'file_row_number'];

export interface FoldOptions {
  writer: ParquetWriter;
  /** Every file of the table. */
  files: string[];
  merge: NonNullable<LakeTable['merge']>;
  /** The directory the folded files go to, named by `fileName`. */
  outDir: string;
  fileName: (seq: number) => string;
  /** A fold writes files of about this size. */
  fileBytes: number;
  batchRows?: number;
}

/** Folds a merge table's files into files of one version per live key; returns the rows written. */
export async function foldTable(options: FoldOptions): Promise<number> {
  // As the view ranks versions of one cursor value by filename, the list in that order makes a
  // file's index rank the same way.
  const files = [...options.files].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reader = `read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning=false, union_by_name=true)`;
  const columns = (await options.writer.describe(`SELECT * FROM ${reader}`)).map((c) => c.name);
  const taken = new Set(columns.map((name) => name.toLowerCase()));
  if (POSITION_COLUMNS.some((name) => taken.has(name))) return foldWhole(options, files, columns);

  const { writer, merge } = options;
  const position = freeName(taken, 'inlet_position');
  const keep = [...merge.key, merge.order_by, ...(merge.deleted_column ? [merge.deleted_column] : [])];
  let ranked =
    `SELECT ${quoteIdent(position)} FROM (SELECT ${keep.map(quoteIdent).join(', ')}, ${PACKED} AS ${quoteIdent(position)} FROM ${reader})` +
    ` QUALIFY row_number() OVER (PARTITION BY ${merge.key.map(quoteIdent).join(', ')} ORDER BY ${mergeOrderSql(merge, quoteIdent)} DESC, ${quoteIdent(position)} DESC) = 1`;
  if (merge.deleted_column) ranked += ` AND ${quoteIdent(merge.deleted_column)} IS NULL`;

  const winners = join(options.outDir, '.fold-winners.parquet');
  const positions = `read_parquet(${sqlString(winners)})`;
  try {
    await writer.writeSelect(ranked, winners);
    const batches = await foldBatches(writer, positions, position, options.batchRows ?? FOLD_BATCH_ROWS);
    let rows = 0;
    let seq = 0;
    for (const [batch, segments] of batches.entries()) {
      const select = segments
        .map((segment) => segmentSelect(reader, positions, position, segment))
        .join(' UNION ALL ');
      const out = join(options.outDir, `.fold-${batch}`);
      rows += await writer.writeSelectFiles(select, out, options.fileBytes);
      for (const name of writtenFiles(out))
        renameSync(join(out, name), join(options.outDir, options.fileName(seq++)));
      rmSync(out, { recursive: true, force: true });
    }
    // No row left: one empty file keeps the table and its columns.
    if (seq === 0)
      await writer.writeSelect(`SELECT * FROM ${reader} LIMIT 0`, join(options.outDir, options.fileName(0)));
    return rows;
  } finally {
    rmSync(winners, { force: true });
  }
}

/** A row's position: its file's index in the reader's list, and its row in that file. */
const PACKED = '(file_index::BIGINT << 40) | file_row_number::BIGINT';

/** The winning rows of one segment; the reader opens its file only and skips the row groups outside. */
function segmentSelect(reader: string, positions: string, column: string, segment: Segment): string {
  const { file, from, to } = segment;
  const rows = `file_row_number >= ${from}${to === undefined ? '' : ` AND file_row_number < ${to}`}`;
  const low = (BigInt(file) << 40n) | BigInt(from);
  const high = to === undefined ? (BigInt(file) + 1n) << 40n : (BigInt(file) << 40n) | BigInt(to);
  const p = quoteIdent(column);
  return (
    `SELECT * FROM ${reader} WHERE file_index = ${file} AND ${rows} AND ${PACKED} IN ` +
    `(SELECT ${p} FROM ${positions} WHERE ${p} >= ${low} AND ${p} < ${high})`
  );
}

/** Rows of one file that hold winners: from (inclusive) to (exclusive; the file's end when undefined). */
interface Segment {
  file: number;
  from: number;
  to: number | undefined;
  winners: number;
}

/** The winners in batches of at most `batchRows`, each a list of files' row ranges, in order. */
async function foldBatches(
  writer: ParquetWriter,
  positions: string,
  column: string,
  batchRows: number,
): Promise<Segment[][]> {
  const p = quoteIdent(column);
  const chunks = `SELECT ${p} >> 40 AS f, (row_number() OVER (PARTITION BY ${p} >> 40 ORDER BY ${p}) - 1) // ${batchRows} AS chunk, ${p} FROM ${positions}`;
  const list = await writer.scalar(
    `SELECT string_agg(first || ':' || winners, ',' ORDER BY first) FROM (SELECT min(${p}) AS first, count(*) AS winners FROM (${chunks}) GROUP BY f, chunk)`,
  );
  const starts = (list ? list.split(',') : []).map((entry) => {
    const [first = '0', winners = '0'] = entry.split(':');
    return {
      file: Number(BigInt(first) >> 40n),
      row: Number(BigInt(first) & ((1n << 40n) - 1n)),
      winners: Number(winners),
    };
  });
  const batches: Segment[][] = [];
  let batch: Segment[] = [];
  let size = 0;
  for (const [i, { file, row, winners }] of starts.entries()) {
    const next = starts[i + 1];
    if (batch.length > 0 && size + winners > batchRows) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push({ file, from: row, to: next?.file === file ? next.row : undefined, winners });
    size += winners;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * A table with a column of a reader's position's name ranks its full rows in one query, as folds did
 * before; its memory grows with the table.
 */
async function foldWhole(options: FoldOptions, files: string[], columns: string[]): Promise<number> {
  const { writer, merge } = options;
  const file = freeName(new Set(columns.map((name) => name.toLowerCase())), 'inlet_file');
  const reader = `read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning=false, union_by_name=true, filename=${sqlString(file)})`;
  let select =
    `SELECT * EXCLUDE (${quoteIdent(file)}) FROM ${reader}` +
    ` QUALIFY row_number() OVER (PARTITION BY ${merge.key.map(quoteIdent).join(', ')} ORDER BY ${mergeOrderSql(merge, quoteIdent)} DESC, ${quoteIdent(file)} DESC) = 1`;
  if (merge.deleted_column) select += ` AND ${quoteIdent(merge.deleted_column)} IS NULL`;
  const out = join(options.outDir, '.fold');
  const rows = await writer.writeSelectFiles(select, out, options.fileBytes);
  const written = writtenFiles(out);
  for (const [seq, name] of written.entries())
    renameSync(join(out, name), join(options.outDir, options.fileName(seq)));
  rmSync(out, { recursive: true, force: true });
  if (written.length === 0)
    await writer.writeSelect(`${select} LIMIT 0`, join(options.outDir, options.fileName(0)));
  return rows;
}

/** The Parquet files a COPY with FILE_SIZE_BYTES wrote: data_0, data_1, … in order. */
function writtenFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.parquet'))
    .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
}

/** `base`, or `base` with underscores before it, whichever no column of the table is named. */
export function freeName(taken: ReadonlySet<string>, base: string): string {
  let name = base;
  while (taken.has(name)) name = `_${name}`;
  return name;
}
