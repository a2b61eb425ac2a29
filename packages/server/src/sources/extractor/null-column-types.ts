import { linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type LakeTable, sqlString, syncPath, writeLakeTable } from '../../lake/index.ts';
import { type ParquetWriter, quoteIdent } from './parquet-writer.ts';
import { filesDirName, partNames, partsDirOf } from './run-files.ts';
import { nextGeneration } from './table-compaction.ts';

/**
 * Gives a column that holds only NULL in a file the type the table's files with values in it agree
 * on. A CSV column empty in every row of an export has nothing to be typed by, so DuckDB makes it
 * VARCHAR; the view reads every file as one table, in a type common to all, so one such file made
 * the dates and numbers of every other file text: the first export's empty column did for good, and
 * one later export's did for the rows before it. Files whose columns all keep their type are linked
 * as they are; the switch is the compaction's (a new files-<n> directory, then the manifest), so a
 * query sees the old files or the new ones. Returns the manifest to go on with.
 */
export async function retypeNullColumns(options: {
  tableDir: string;
  manifest: LakeTable;
  writer: ParquetWriter;
}): Promise<LakeTable> {
  const { tableDir, manifest, writer } = options;
  const current = partsDirOf(manifest.files);
  const currentDir = join(tableDir, current);
  const names = partNames(currentDir).sort();
  if (names.length < 2) return manifest;
  const paths = names.map((name) => join(currentDir, name));
  // Per file and column: whether any row holds a value, from the row groups' statistics (a column
  // without them counts as holding values). A file of no rows has no row group and says nothing.
  const stats = await writer.scalar(
    'SELECT string_agg(file_name || chr(9) || path_in_schema || chr(9) || has_values, chr(10)) FROM (' +
      'SELECT file_name, path_in_schema, bool_or(stats_null_count IS NULL OR stats_null_count < num_values) AS has_values ' +
      `FROM parquet_metadata([${paths.map(sqlString).join(', ')}]) GROUP BY ALL)`,
  );
  const holds = new Map<string, Map<string, boolean>>();
  for (const line of stats?.split('\n') ?? []) {
    const [file = '', column = '', values = ''] = line.split('\t');
    const columns = holds.get(file) ?? new Map<string, boolean>();
    columns.set(column, values === 'true');
    holds.set(file, columns);
  }
  const types = new Map<string, Map<string, string>>();
  for (const path of paths)
    types.set(
      path,
      new Map(
        (
          await writer.describe(`SELECT * FROM read_parquet([${sqlString(path)}], hive_partitioning=false)`)
        ).map((c) => [c.name, c.type]),
      ),
    );
  // The type the files holding values in a column give it: theirs, or when they differ (BIGINT in
  // one, DOUBLE in another) the one the lake reads them all as. None when no file holds a value.
  const valueTypes = new Map<string, Set<string>>();
  const valueFiles = new Map<string, string[]>();
  for (const path of paths)
    for (const [column, type] of types.get(path) ?? [])
      if (holds.get(path)?.get(column) === true) {
        valueTypes.set(column, (valueTypes.get(column) ?? new Set()).add(type));
        valueFiles.set(column, [...(valueFiles.get(column) ?? []), path]);
      }
  const valueType = new Map<string, string>();
  for (const [column, seen] of valueTypes) {
    if (seen.size === 1) {
      valueType.set(column, [...seen][0] as string);
      continue;
    }
    const files = (valueFiles.get(column) ?? []).map(sqlString).join(', ');
    const [common] = await writer.describe(
      `SELECT ${quoteIdent(column)} FROM read_parquet([${files}], hive_partitioning=false, union_by_name=true)`,
    );
    if (common) valueType.set(column, common.type);
  }
  const casts = new Map<string, Array<[string, string]>>();
  for (const path of paths)
    for (const [column, type] of types.get(path) ?? []) {
      const wanted = valueType.get(column);
      if (holds.get(path)?.get(column) === false && wanted !== undefined && wanted !== type)
        casts.set(path, [...(casts.get(path) ?? []), [column, wanted]]);
    }
  if (casts.size === 0) return manifest;

  const dirName = filesDirName(nextGeneration(tableDir));
  const staging = join(tableDir, `.${dirName}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    for (const [i, name] of names.entries()) {
      const path = paths[i] as string;
      const retyped = casts.get(path);
      if (!retyped) {
        linkSync(path, join(staging, name));
        continue;
      }
      const replace = retyped.map(
        ([column, type]) => `CAST(${quoteIdent(column)} AS ${type}) AS ${quoteIdent(column)}`,
      );
      // The same name: a merge table's view ranks versions copied in one run by their file's name.
      await writer.writeSelect(
        `SELECT * REPLACE (${replace.join(', ')}) FROM read_parquet([${sqlString(path)}], hive_partitioning=false)`,
        join(staging, name),
      );
    }
    for (const name of readdirSync(staging)) syncPath(join(staging, name));
    syncPath(staging);
    renameSync(staging, join(tableDir, dirName));
    syncPath(tableDir);
    const next = { ...manifest, files: `${dirName}/part-*.parquet` };
    writeLakeTable(tableDir, next);
    if (current === '') for (const path of paths) rmSync(path, { force: true });
    else rmSync(currentDir, { recursive: true, force: true });
    return next;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
