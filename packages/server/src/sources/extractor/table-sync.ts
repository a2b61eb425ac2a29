import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
// The module itself, not config/index.ts: that one loads the sources, which load this file.
import { configFileName } from '../../config/config-file-name.ts';
import {
  type LakeTable,
  parquetLinks,
  readLakeTable,
  sqlString,
  syncPath,
  writeLakeTable,
} from '../../lake/index.ts';
import type { Logger } from '../../log/index.ts';
import { warnLinkedFiles } from '../lake-links.ts';
import type { SourceContext, SyncResult } from '../types.ts';
import type { ColumnPlan } from './column-plan.ts';
import { checkMergeKeys, rowOrdered } from './merge-keys.ts';
import { retypeNullColumns } from './null-column-types.ts';
import { type ParquetWriter, quoteIdent } from './parquet-writer.ts';
import {
  committedParts,
  highestRun,
  newestFilesDir,
  partFileName,
  partsDirOf,
  publishParts,
  publishSnapshot,
  removeStaging,
  removeTableFiles,
  removeUncommitted,
  removeUncommittedParts,
  stagedFiles,
  stagingDirName,
} from './run-files.ts';
import { ENDLESS_VALUE, type EndlessPosition, isEndlessPosition, isNaNValue } from './table-columns.ts';
import { compactTable } from './table-compaction.ts';
import { sameDocs, type TableDocs, withDocs } from './table-docs.ts';
import type { SyncMode, TableTarget } from './table-options.ts';
import { checkTypeChange } from './type-change.ts';

/** One run of one table, as the source kind sees it. */
export interface TableRun {
  run: number;
  /** What the last committed run saved (a cursor, the files imported); undefined on the first run. */
  position: unknown;
  /** Write a Parquet file even for zero rows: a full snapshot, or a table's first run (its view gets columns). */
  writeEmpty: boolean;
  /** Path for this run's next Parquet file, inside its hidden staging directory. */
  nextPart(): string;
  /** A scratch directory for this run (spool files), removed afterwards. */
  tmpDir: string;
  writer: ParquetWriter;
  signal: AbortSignal;
  logger: Logger;
  /** The configuration file a message says to edit: prod.yaml when --config named it (configFileName). */
  configFile: string;
  /**
   * The greatest value of column in the files this run wrote, as text; undefined when none. order
   * (a ColumnPlan's) ranks the values where the lake type's own order is not the source's; text,
   * written {}, turns the value into text where ::VARCHAR would not give it exactly.
   */
  maxOf(
    column: string,
    options?: { order?: string | undefined; text?: string | undefined; where?: string | undefined },
  ): Promise<string | undefined>;
  /** Rows of this table written so far, for progress. */
  progress(rows: number): void;
}

/** One table of a source: its target in the lake and how to read it. */
export interface TableJob {
  target: TableTarget;
  /**
   * Writes the run's rows with run.nextPart(); returns the rows, the position to save, how the
   * cursor's values order where the lake type does not (a ColumnPlan's order), for the merge view,
   * and what the source says of the table and its columns (undefined: the manifest keeps its own).
   */
  extract(run: TableRun): Promise<{
    rows: number;
    position?: unknown;
    cursorOrder?: string | undefined;
    docs?: TableDocs | undefined;
    /** What the run has to say of the table beside its rows (a file's lines held back, and why). */
    notes?: string[] | undefined;
  }>;
  /** How many rows the run will probably copy, for the progress bar. */
  estimate?(position: unknown): Promise<number | undefined>;
}

interface Checkpoint {
  mode: SyncMode;
  cursor?: string | undefined;
  key?: string[] | undefined;
  run: number;
  position?: unknown;
}

export const checkpointScope = (source: string) => `source:${source}`;

/**
 * What changed of a table's mode, cursor and primary key since its last copy, as `cursor id → updated_at`;
 * empty when nothing did. A full copy does not depend on cursor or key, so only the mode matters for it.
 */
function shapeChanges(saved: Checkpoint, target: TableTarget): string[] {
  type Setting = string | string[] | undefined;
  const said = (value: Setting) =>
    value === undefined ? '(none)' : Array.isArray(value) ? value.join(', ') : value;
  const changes: Array<[string, Setting, Setting]> = [['mode', saved.mode, target.mode]];
  if (target.mode !== 'full')
    changes.push(['cursor', saved.cursor, target.cursor], ['primary_key', saved.key, target.primaryKey]);
  return changes
    .filter(([, was, now]) => JSON.stringify(was ?? null) !== JSON.stringify(now ?? null))
    .map(([key, was, now]) => `${key} ${said(was)} → ${said(now)}`);
}

function manifest(
  source: string,
  target: TableTarget,
  files: string,
  cursorOrder?: string,
  rowOrder = false,
): LakeTable {
  const table: LakeTable = { name: `${source}.${target.name}`, kind: 'source', files, depends_on: [source] };
  if (target.mode === 'merge' && target.primaryKey && target.cursor)
    table.merge = {
      key: target.primaryKey,
      order_by: target.cursor,
      ...(cursorOrder ? { order: cursorOrder } : {}),
      ...(target.deletedColumn ? { deleted_column: target.deletedColumn } : {}),
      ...(rowOrder ? { row_order: true as const } : {}),
    };
  return table;
}

/**
 * Copies one table into lake/sources/<source>/<table>/ in its mode, crash-safely:
 * - full: the run writes a hidden directory that becomes snapshot-<run> by one rename, then the
 *   manifest switches to it, then older snapshots go;
 * - incremental and merge: the run's part files are published (fsync + rename) and only then is
 *   the position saved, so an interrupted run is repeated from the same position under the same
 *   run number, and its leftovers are removed first.
 */
export async function syncTable(options: {
  source: string;
  job: TableJob;
  context: SourceContext;
  writer: ParquetWriter;
  onRows(rows: number): void;
}): Promise<SyncResult['tables'][number]> {
  const { source, job, context, writer } = options;
  const { target } = job;
  const { state, logger } = context;
  const scope = checkpointScope(source);
  const sourceDir = join(context.layout.lake, 'sources', source);
  const tableDir = join(sourceDir, target.name);
  if (!existsSync(tableDir)) {
    mkdirSync(tableDir, { recursive: true });
    syncPath(sourceDir);
  }
  let saved = state.getCheckpoint<Checkpoint>(scope, target.name);
  // A table whose mode or keys changed is copied again from the start; its files in the old shape
  // stay, and stay queryable, until that copy is ready to replace them: a run that fails (a cursor
  // misspelt in the change) left the table gone.
  // The log said was=incremental now=incremental of a cursor changed, leaving what changed to be guessed.
  const changed = saved === undefined ? [] : shapeChanges(saved, target);
  const reshaped = changed.length > 0;
  if (saved && reshaped) {
    logger.warn(
      { source, table: target.name, changed: changed.join('; ') },
      'the mode, cursor or primary key of this table changed; copying it again from the start',
    );
    saved = undefined;
  }
  const full = target.mode === 'full';
  const previous = readLakeTable(tableDir);
  const current = reshaped ? undefined : previous?.files;
  // Increments go where the manifest reads them: the table directory, or files-<n> once compacted.
  // Without a manifest (lost or damaged), the newest complete files-<n> directory is the table.
  const partsDir =
    full || reshaped ? '' : current !== undefined ? partsDirOf(current) : newestFilesDir(tableDir);
  if (reshaped) removeStaging(tableDir);
  else if (full) removeUncommitted(tableDir, 0, current?.split('/')[0]);
  else removeUncommittedParts(tableDir, saved?.run ?? 0, partsDir);
  // Left out of the table (partNames, the view), where its view failed on one; a user who linked a
  // file in is told where its rows went. A full copy's files are replaced whole by this run.
  if (!full && !reshaped) warnLinkedFiles(context, parquetLinks(join(tableDir, partsDir)));
  // A table copied again from the start is numbered from 1 again, as it was when its files went first.
  const run = full && !reshaped ? Math.max(highestRun(tableDir), saved?.run ?? 0) + 1 : (saved?.run ?? 0) + 1;
  const staging = join(tableDir, stagingDirName(run));
  const tmpDir = join(context.layout.tmp, 'sources', source, target.name);
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  let seq = 0;
  const configFile = configFileName(context.config);
  try {
    const result = await job.extract({
      run,
      position: saved?.position,
      writeEmpty: full || saved === undefined,
      nextPart: () => join(staging, partFileName(run, seq++)),
      tmpDir,
      writer,
      signal: context.signal,
      logger,
      configFile,
      async maxOf(column, { order, text = '{}::VARCHAR', where } = {}) {
        const files = stagedFiles(staging);
        if (files.length === 0) return undefined;
        const ref = quoteIdent(column);
        const greatest = order ? `arg_max(${ref}, ${order.replaceAll('{}', ref)})` : `max(${ref})`;
        const filter = where ? ` WHERE ${where.replaceAll('{}', ref)}` : '';
        return writer.scalar(
          `SELECT ${text.replaceAll('{}', greatest)} FROM read_parquet([${files.map(sqlString).join(', ')}])${filter}`,
        );
      },
      progress: options.onRows,
    });
    // The old shape's files and position go only now that the new copy is staged whole.
    const replaceOldShape = () => {
      if (!reshaped) return;
      removeTableFiles(tableDir, staging);
      state.deleteCheckpoint(scope, target.name);
    };
    if (full) {
      replaceOldShape();
      const snapshot = publishSnapshot(staging, tableDir, run);
      writeLakeTable(
        tableDir,
        withDocs(manifest(source, target, `${snapshot}/*.parquet`), result.docs, previous),
      );
      state.setCheckpoint(scope, target.name, {
        mode: target.mode,
        cursor: target.cursor,
        key: target.primaryKey,
        run,
      } satisfies Checkpoint);
      removeUncommitted(tableDir, 0, snapshot);
    } else {
      await checkTypeChange(writer, {
        where: `${source}.${target.name}`,
        committed: reshaped ? [] : committedParts(join(tableDir, partsDir)),
        staged: stagedFiles(staging),
        configFile,
        cursor: target.cursor,
      });
      if (target.mode === 'merge' && target.primaryKey)
        await checkMergeKeys(writer, {
          where: `${source}.${target.name}`,
          key: target.primaryKey,
          staged: stagedFiles(staging),
          files: target.files,
        });
      const rowOrder =
        target.mode === 'merge' &&
        (await rowOrdered(writer, [
          ...(reshaped ? [] : committedParts(join(tableDir, partsDir))),
          ...stagedFiles(staging),
        ]));
      replaceOldShape();
      const published = publishParts(staging, join(tableDir, partsDir), tableDir);
      const table = withDocs(
        manifest(
          source,
          target,
          partsDir ? `${partsDir}/part-*.parquet` : 'part-*.parquet',
          result.cursorOrder,
          rowOrder,
        ),
        result.docs,
        previous,
      );
      if (published > 0) writeLakeTable(tableDir, table);
      // A run with no new rows still brings a comment changed in the database to the catalog.
      else if (previous && !reshaped && !sameDocs(previous, table))
        writeLakeTable(tableDir, withDocs(previous, result.docs, previous));
      const position = result.position !== undefined ? result.position : saved?.position;
      if (published > 0 || JSON.stringify(position) !== JSON.stringify(saved?.position))
        state.setCheckpoint(scope, target.name, {
          mode: target.mode,
          cursor: target.cursor,
          key: target.primaryKey,
          run: published > 0 ? run : (saved?.run ?? 0),
          position,
        } satisfies Checkpoint);
      if (published > 0) await removeEmptyParts(writer, join(tableDir, partsDir));
      // Before any compaction, which would write the text type into its merged file for good.
      const retyped =
        published > 0
          ? await retypeNullColumns({ tableDir, manifest: table, writer }).catch((error) => {
              // The rows are committed; the types are set right by the next run that copies rows.
              logger.warn(
                { source, table: target.name, err: error },
                'could not give columns empty in a file the type of their values',
              );
              return table;
            })
          : table;
      if (published > 0 && !context.signal.aborted)
        await compact({ source, tableDir, table: retyped, writer, logger, configFile });
    }
    return {
      table: target.name,
      rows: result.rows,
      ...(result.notes?.length ? { notes: result.notes } : {}),
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * Removes the committed files of no rows once another file holds rows. A table's first run writes
 * a file even for no rows, so its view has columns; but a CSV export of only its header has every
 * column VARCHAR, and read with it, every later file's numbers and dates were text too. A file of
 * no rows takes no row with it. Called after the checkpoint, so a crash leaves it for the next run.
 */
async function removeEmptyParts(writer: ParquetWriter, partsDir: string): Promise<void> {
  const files = committedParts(partsDir);
  if (files.length < 2) return;
  const list = `[${files.map(sqlString).join(', ')}]`;
  const empty = await writer.scalar(
    `SELECT CASE WHEN bool_or(num_rows > 0) THEN string_agg(file_name, chr(10)) FILTER (WHERE num_rows = 0) END ` +
      `FROM parquet_file_metadata(${list})`,
  );
  for (const file of empty?.split('\n') ?? []) rmSync(file, { force: true });
}

/**
 * Merges the table's small increment files once there are enough of them. The rows are committed
 * already, so a compaction that fails is logged and left for a later run; one that ran out of the
 * writer's memory says which setting gives it more, as it will run out again on the next run.
 */
async function compact(options: {
  source: string;
  tableDir: string;
  table: LakeTable;
  writer: ParquetWriter;
  logger: Logger;
  configFile: string;
}) {
  const { source, table, logger } = options;
  try {
    const done = await compactTable({ tableDir: options.tableDir, manifest: table, writer: options.writer });
    if (done) logger.info({ table: table.name, ...done }, "compacted the table's increments");
  } catch (error) {
    const outOfMemory = String((error as Error)?.message).includes('Out of Memory Error');
    logger.warn(
      { table: table.name, err: error },
      outOfMemory
        ? `compacting the table's increments ran out of the source's memory_limit; its files stay as they are: set a larger memory_limit (e.g. 1GB) on source "${source}" in ${options.configFile}`
        : "compacting the table's increments failed; its files stay as they are and the next run tries again",
    );
  }
}

/** How the cursor's values order where the lake type does not (numbers kept as text); see ColumnPlan. */
export function cursorOrder(
  cursor: string | undefined,
  columns: ReadonlyArray<{ plan: ColumnPlan }>,
): string | undefined {
  return columns.find((column) => column.plan.name === cursor)?.plan.order;
}

/**
 * Where the next incremental run starts: the largest cursor value copied, or where this run began.
 * A first run whose rows all had a NULL cursor saves null, so those rows are not copied again.
 */
export async function positionAfter(
  run: TableRun,
  cursor: string | undefined,
  columns: ReadonlyArray<{ plan: ColumnPlan }>,
  rows: number,
): Promise<unknown> {
  if (!cursor) return undefined;
  const plan = columns.find((column) => column.plan.name === cursor)?.plan;
  // A FLOAT's shortest text (1.1) is another number than the float itself (1.100000023841858…),
  // and MySQL compares the column as a double, so a cursor saved as 1.1 matched its own row again.
  // As a DOUBLE the text reads back as exactly that float, in MySQL and in PostgreSQL alike.
  const text = plan && (plan.lakeType ?? plan.csvType) === 'FLOAT' ? '{}::DOUBLE::VARCHAR' : undefined;
  const greatest = await run.maxOf(cursor, { order: plan?.order, text });
  const previous = run.position;
  // Text may say "nan": only the other types have values past which none can come.
  const endless =
    greatest !== undefined &&
    ENDLESS_VALUE.test(greatest.trim()) &&
    !(plan?.csvType === 'VARCHAR' && !plan.order);
  if (endless) {
    const below = await run.maxOf(cursor, {
      order: plan?.order,
      text,
      where: `NOT regexp_full_match(trim({}::VARCHAR), '\\+?(inf|infinity|nan)', 'i')`,
    });
    const before = isEndlessPosition(previous)
      ? previous.below
      : typeof previous === 'string'
        ? previous
        : null;
    // NaN stays the greatest value once copied; below it, an infinity is copied once too.
    const keptNaN = isEndlessPosition(previous) && isNaNValue(previous.endless);
    const endlessValue = keptNaN ? previous.endless : greatest;
    const infinityBefore = isEndlessPosition(previous) && !(keptNaN && previous.noInfinity);
    const notNaN = isNaNValue(greatest)
      ? await run.maxOf(cursor, {
          order: plan?.order,
          text,
          where: `NOT regexp_full_match(trim({}::VARCHAR), 'nan', 'i')`,
        })
      : greatest;
    const infinityNow = notNaN !== undefined && ENDLESS_VALUE.test(notNaN.trim());
    const noInfinity = isNaNValue(endlessValue) && !infinityBefore && !infinityNow;
    return {
      below: below ?? before,
      endless: endlessValue,
      ...(noInfinity ? { noInfinity: true as const } : {}),
    } satisfies EndlessPosition;
  }
  // Values below infinity past the saved one: the endless values copied stay as they were.
  if (greatest !== undefined && isEndlessPosition(previous)) return { ...previous, below: greatest };
  if (greatest !== undefined) return greatest;
  return previous === undefined && rows > 0 ? null : previous;
}
