import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type LakeTable, mergeOrderSql, sqlString, syncPath, writeLakeTable } from '../../lake/index.ts';
import { type ParquetWriter, quoteIdent } from './parquet-writer.ts';
import {
  filesDirName,
  foldedFileName,
  isFoldedFile,
  mergedFileName,
  partNames,
  partsDirOf,
  runOfPart,
} from './run-files.ts';
import { foldTable, freeName } from './table-fold.ts';

/**
 * Compaction of an incremental or merge table's increments.
 *
 * Every run that copies rows adds files, so a table synced every hour held 8,760 files a year and
 * its view opened each one. Once a table's current directory holds `minFiles` small files (under
 * SMALL_FILE_BYTES), up to MERGE_INPUT_BYTES of them, oldest first, become one file. In merge mode
 * the versions of a key that a newer version among those files supersedes are dropped on the way
 * (the view keeps the newest per key, so what it shows is the same); a deleted row's newest version
 * is kept, as it may hide an older version in a file that was not merged. A merge table whose
 * files since its first copy or last fold outweigh it is folded whole instead (FOLD_MIN_BYTES).
 *
 * The switch is atomic for readers: the merged file and hard links to the files kept go into a new
 * hidden directory, which is renamed into place as files-<n>, and then the manifest points at it,
 * so a query sees the old files or the new ones, never both. The old directory goes last. A crash
 * at any point leaves the manifest on a complete set; what the crash left is removed at the next
 * run (removeUncommitted).
 */

/** Files at least this large are left as they are. */
export const SMALL_FILE_BYTES = 16 * 1024 * 1024;
/** At most this much Parquet goes into one merge. */
export const MERGE_INPUT_BYTES = 128 * 1024 * 1024;
/** A table is compacted once its current directory holds this many small files. */
export const COMPACT_MIN_FILES = 8;

export interface Compacted {
  /** merge: small files into one; fold: a merge table's every file into one version per live key. */
  kind: 'merge' | 'fold';
  /** How many files were read. */
  merged: number;
  /** Rows written. */
  rows: number;
  /** The manifest's new files glob. */
  files: string;
}

/**
 * A merge table is folded whole once the files written since its last fold (or first copy) hold as
 * many bytes as the folded ones, and at least this many.
 */
export const FOLD_MIN_BYTES = MERGE_INPUT_BYTES;
/** A fold writes files of about this size. */
export const FOLD_FILE_BYTES = 64 * 1024 * 1024;

export async function compactTable(options: {
  tableDir: string;
  manifest: LakeTable;
  writer: ParquetWriter;
  minFiles?: number;
  smallFileBytes?: number;
  foldMinBytes?: number;
  /** Rows a fold copies per pass (FOLD_BATCH_ROWS). */
  foldBatchRows?: number;
}): Promise<Compacted | undefined> {
  const { tableDir, manifest, writer } = options;
  const minFiles = options.minFiles ?? COMPACT_MIN_FILES;
  const smallFileBytes = options.smallFileBytes ?? SMALL_FILE_BYTES;
  const current = partsDirOf(manifest.files);
  const currentDir = join(tableDir, current);
  const parts = partNames(currentDir)
    .sort((a, b) => runOfPart(a) - runOfPart(b) || a.localeCompare(b))
    .map((name) => ({ name, bytes: statSync(join(currentDir, name)).size }));
  const sum = (files: typeof parts) => files.reduce((total, p) => total + p.bytes, 0);

  // A merge table's history grows in files a merge of small ones never reads again (16 MB and up):
  // every version of every key stays, and its view ranks them all. Folded, each live key has one row.
  const folded = sum(parts.filter((p) => isFoldedFile(p.name)));
  const since = sum(parts.filter((p) => !isFoldedFile(p.name)));
  const fold =
    manifest.merge !== undefined &&
    parts.length > 1 &&
    since >= Math.max(options.foldMinBytes ?? FOLD_MIN_BYTES, folded);

  const small = parts.filter((p) => p.bytes < smallFileBytes);
  if (!fold && small.length < minFiles) return undefined;
  const inputs: typeof small = [];
  if (fold) inputs.push(...parts);
  else {
    let bytes = 0;
    for (const part of small) {
      if (inputs.length >= 2 && bytes + part.bytes > MERGE_INPUT_BYTES) break;
      inputs.push(part);
      bytes += part.bytes;
    }
  }
  const merging = new Set(inputs.map((p) => p.name));

  const generation = nextGeneration(tableDir);
  const staging = join(tableDir, `.${filesDirName(generation)}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    for (const part of parts)
      if (!merging.has(part.name)) linkSync(join(currentDir, part.name), join(staging, part.name));
    const lastRun = Math.max(...inputs.map((p) => runOfPart(p.name)));
    const paths = inputs.map((p) => join(currentDir, p.name));
    const rows =
      fold && manifest.merge
        ? await foldTable({
            writer,
            files: paths,
            merge: manifest.merge,
            outDir: staging,
            fileName: (seq) => foldedFileName(lastRun, seq),
            fileBytes: FOLD_FILE_BYTES,
            batchRows: options.foldBatchRows,
          })
        : await writer.writeSelect(
            await mergeSelect(writer, paths, manifest.merge),
            join(staging, freeMergedName(staging, lastRun)),
          );
    for (const name of readdirSync(staging)) syncPath(join(staging, name));
    syncPath(staging);
    const dirName = filesDirName(generation);
    renameSync(staging, join(tableDir, dirName));
    syncPath(tableDir);
    const glob = `${dirName}/part-*.parquet`;
    writeLakeTable(tableDir, { ...manifest, files: glob });
    if (current === '') {
      for (const part of parts) rmSync(join(tableDir, part.name), { force: true });
    } else {
      rmSync(currentDir, { recursive: true, force: true });
    }
    return { kind: fold ? 'fold' : 'merge', merged: inputs.length, rows, files: glob };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The rows of small files merged into one; a merge table's keep the newest version per key among
 * them, ranked as the view does (lakeTableSql): the latest cursor, then the version copied last.
 */
async function mergeSelect(
  writer: ParquetWriter,
  paths: string[],
  merge: LakeTable['merge'],
): Promise<string> {
  const files = paths.map(sqlString).join(', ');
  if (!merge) return `SELECT * FROM read_parquet([${files}], hive_partitioning=false, union_by_name=true)`;
  // A table's own column named filename would take the place of the reader's.
  const columns = await writer.describe(
    `SELECT * FROM read_parquet([${files}], hive_partitioning=false, union_by_name=true)`,
  );
  const taken = new Set(columns.map((c) => c.name.toLowerCase()));
  const file = freeName(taken, 'inlet_file');
  const key = merge.key.map(quoteIdent).join(', ');
  // Versions in one file, by their place in it (the later row wins), where no column hides DuckDB's.
  const row = taken.has('file_row_number') ? undefined : 'file_row_number';
  return (
    `SELECT * EXCLUDE (${quoteIdent(file)}${row ? `, ${row}` : ''}) FROM read_parquet([${files}], hive_partitioning=false, union_by_name=true, filename=${sqlString(file)}${row ? `, ${row}=true` : ''})` +
    ` QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${mergeOrderSql(merge, quoteIdent)} DESC, ${quoteIdent(file)} DESC${row ? `, ${row} DESC` : ''}) = 1`
  );
}

/** The first merged file name not in the staging directory yet. */
function freeMergedName(staging: string, run: number): string {
  let seq = 0;
  while (existsSync(join(staging, mergedFileName(run, seq)))) seq++;
  return mergedFileName(run, seq);
}

const FILES_DIR = /^\.?files-(\d{8})$/;

/** A number above every files-<n> directory's, hidden or not. */
export function nextGeneration(tableDir: string): number {
  let highest = 0;
  for (const name of readdirSync(tableDir)) {
    const match = FILES_DIR.exec(name);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest + 1;
}
