import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publish, syncPath } from '../../lake/index.ts';

// Every file a sync writes is named after the run that wrote it, so a retried run (same number)
// replaces what an interrupted attempt left instead of adding to it.
const PART = /^part-(\d{8})-\d{5}\.parquet$/;
const SNAPSHOT = /^snapshot-(\d{8})$/;

const pad = (value: number, width: number) => String(value).padStart(width, '0');

export const partFileName = (run: number, seq: number) => `part-${pad(run, 8)}-${pad(seq, 5)}.parquet`;
export const snapshotDirName = (run: number) => `snapshot-${pad(run, 8)}`;
/** The hidden directory a run writes into; the engine and other readers skip names starting with a dot. */
export const stagingDirName = (run: number) => `.run-${pad(run, 8)}`;

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

/** Removes every file of the table, for a table whose mode or keys changed. */
export function removeTableFiles(tableDir: string): void {
  rmSync(tableDir, { recursive: true, force: true });
  mkdirSync(tableDir, { recursive: true });
}

const parquetIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.parquet'))
        .sort()
    : [];

/** The Parquet files a run has staged so far. */
export function stagedFiles(stagingDir: string): string[] {
  return parquetIn(stagingDir).map((name) => join(stagingDir, name));
}

/** Moves each staged file into the table directory durably (fsync, rename, fsync), then drops the staging directory. */
export function publishParts(stagingDir: string, tableDir: string): number {
  const names = parquetIn(stagingDir);
  for (const name of names) publish(join(stagingDir, name), join(tableDir, name), tableDir);
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
