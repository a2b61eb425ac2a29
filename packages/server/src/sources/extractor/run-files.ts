import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publish, syncPath } from '../../lake/index.ts';

// Every file a sync writes is named after the run that wrote it, so a retried run (same number)
// replaces what an interrupted attempt left instead of adding to it.
// A run's own files are part-<run>-<seq>; a file compaction merged is part-<last run>-m<seq>, and
// one a fold of a whole merge table wrote part-<last run>-f<seq> (table-compaction.ts).
const PART = /^part-(\d{8})-(?:\d{5}|[mf]\d{4})\.parquet$/;
const SNAPSHOT = /^snapshot-(\d{8})$/;
// Increments live at the table directory's top, and after their first compaction in files-<n>.
const FILES_DIR = /^files-\d{8}$/;

const pad = (value: number, width: number) => String(value).padStart(width, '0');

export const partFileName = (run: number, seq: number) => `part-${pad(run, 8)}-${pad(seq, 5)}.parquet`;
export const snapshotDirName = (run: number) => `snapshot-${pad(run, 8)}`;
/** The hidden directory a run writes into; the engine and other readers skip names starting with a dot. */
export const stagingDirName = (run: number) => `.run-${pad(run, 8)}`;
/** A directory of an incremental or merge table's files, made by compaction (table-compaction.ts). */
export const filesDirName = (generation: number) => `files-${pad(generation, 8)}`;
export const mergedFileName = (run: number, seq: number) => `part-${pad(run, 8)}-m${pad(seq, 4)}.parquet`;
export const foldedFileName = (run: number, seq: number) => `part-${pad(run, 8)}-f${pad(seq, 4)}.parquet`;
export const isPartFile = (name: string) => PART.test(name);

/**
 * The part files of one directory of a table, by name, unsorted. A symbolic link named as one is left
 * out (inlet writes none): the query engine may not read a file outside the lake, and a link there
 * made the table's view fail; the sync names it in a warning.
 */
export function partNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && isPartFile(entry.name))
    .map((entry) => entry.name);
}
/** A merge table's file that holds one version per key: a fold's, or the table's first copy (run 1). */
export const isFoldedFile = (name: string) => /-f\d{4}\.parquet$/.test(name) || runOfPart(name) === 1;
export const runOfPart = (name: string): number => Number(PART.exec(name)?.[1] ?? 0);

/**
 * The files-<n> directory with the highest n, or '' when there is none. Each one is complete when
 * it appears (compaction renames it into place whole), and any of them holds every row of the table
 * when it was made; the newest is what the manifest pointed at or was about to.
 */
export function newestFilesDir(tableDir: string): string {
  if (!existsSync(tableDir)) return '';
  return (
    readdirSync(tableDir)
      .filter((name) => FILES_DIR.test(name))
      .sort()
      .at(-1) ?? ''
  );
}

/** The directory, relative to the table's, that an incremental or merge table's manifest glob reads. */
export function partsDirOf(files: string | undefined): string {
  const dir = files?.split('/')[0] ?? '';
  return FILES_DIR.test(dir) ? dir : '';
}

const runOf = (name: string): number | undefined => {
  const match = PART.exec(name) ?? SNAPSHOT.exec(name);
  return match ? Number(match[1]) : undefined;
};

/** The highest run number any file or snapshot in the table directory carries, 0 when none. */
export function highestRun(tableDir: string): number {
  if (!existsSync(tableDir)) return 0;
  return Math.max(0, ...readdirSync(tableDir).map((name) => runOf(name) ?? 0));
}

/**
 * Removes what no committed run owns: staging directories, part files of runs after committedRun and
 * snapshots other than keepSnapshot. After a crash this is what makes the next run start clean.
 */
export function removeUncommitted(tableDir: string, committedRun: number, keepSnapshot?: string): void {
  if (!existsSync(tableDir)) return;
  for (const name of readdirSync(tableDir)) {
    const run = runOf(name);
    const stale =
      name.startsWith('.run-') ||
      (PART.test(name) && (run ?? 0) > committedRun) ||
      (SNAPSHOT.test(name) && name !== keepSnapshot);
    if (stale) rmSync(join(tableDir, name), { recursive: true, force: true });
  }
}

/**
 * removeUncommitted for an incremental or merge table whose files are in partsDir ('' for the table
 * directory itself): also removes what an interrupted compaction left, a files-<n> directory the
 * manifest does not point at (hidden or not) or top-level files that one replaced.
 */
export function removeUncommittedParts(tableDir: string, committedRun: number, partsDir: string): void {
  if (!existsSync(tableDir)) return;
  for (const name of readdirSync(tableDir)) {
    const stale =
      name.startsWith('.run-') ||
      name.startsWith('.files-') ||
      (FILES_DIR.test(name) && name !== partsDir) ||
      SNAPSHOT.test(name) ||
      (PART.test(name) && partsDir !== '');
    if (stale) rmSync(join(tableDir, name), { recursive: true, force: true });
  }
  const dir = join(tableDir, partsDir);
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir))
    if (PART.test(name) && runOfPart(name) > committedRun) rmSync(join(dir, name), { force: true });
}

/** Removes what interrupted runs and compactions left in their hidden directories, and nothing else. */
export function removeStaging(tableDir: string): void {
  for (const name of readdirSync(tableDir))
    if (name.startsWith('.run-') || name.startsWith('.files-'))
      rmSync(join(tableDir, name), { recursive: true, force: true });
}

/**
 * Removes every file of the table but the staging directory of the run that replaces them, for a
 * table whose mode or keys changed, once that run has copied the table in its new shape.
 */
export function removeTableFiles(tableDir: string, stagingDir: string): void {
  for (const name of readdirSync(tableDir))
    if (join(tableDir, name) !== stagingDir) rmSync(join(tableDir, name), { recursive: true, force: true });
  syncPath(tableDir);
}

const parquetIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.parquet'))
        .sort()
    : [];

/** The part files of an incremental or merge table's current directory (the table's or a files-<n>). */
export function committedParts(partsDir: string): string[] {
  if (!existsSync(partsDir)) return [];
  return partNames(partsDir)
    .sort()
    .map((name) => join(partsDir, name));
}

/** The Parquet files a run has staged so far. */
export function stagedFiles(stagingDir: string): string[] {
  return parquetIn(stagingDir).map((name) => join(stagingDir, name));
}

/**
 * Moves each staged file into partsDir durably (fsync, rename, fsync), then drops the staging
 * directory. partsDir is the table directory or one of its files-<n> directories.
 */
export function publishParts(stagingDir: string, partsDir: string, tableDir: string): number {
  const names = parquetIn(stagingDir);
  if (names.length > 0 && !existsSync(partsDir)) {
    mkdirSync(partsDir);
    syncPath(tableDir);
  }
  for (const name of names) publish(join(stagingDir, name), join(partsDir, name), partsDir);
  rmSync(stagingDir, { recursive: true, force: true });
  return names.length;
}

/** Makes a staged snapshot durable and visible as snapshot-<run> with one directory rename. */
export function publishSnapshot(stagingDir: string, tableDir: string, run: number): string {
  for (const name of parquetIn(stagingDir)) syncPath(join(stagingDir, name));
  syncPath(stagingDir);
  const name = snapshotDirName(run);
  renameSync(stagingDir, join(tableDir, name));
  syncPath(tableDir);
  return name;
}
