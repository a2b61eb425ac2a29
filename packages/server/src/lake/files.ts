import {
  closeSync,
  constants,
  type Dirent,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
} from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { syncPath, syncPathAsync } from '../fsync.ts';

export { syncPath };

/** Makes a finished temporary file visible under its final name, durably: fsync, rename, fsync the directory. */
export function publish(tmpPath: string, finalPath: string, dir: string): void {
  syncPath(tmpPath);
  renameSync(tmpPath, finalPath);
  syncPath(dir);
}

/**
 * publish() on libuv's thread pool, for the collector's process: the fsync of a Parquet file
 * DuckDB just wrote takes 5–30 ms, which on the event loop would hold up every request in hand.
 */
export async function publishAsync(tmpPath: string, finalPath: string, dir: string): Promise<void> {
  await syncPathAsync(tmpPath);
  await rename(tmpPath, finalPath);
  await syncPathAsync(dir);
}

export interface PartitionFile {
  name: string;
  path: string;
  bytes: number;
}

const MERGE_MANIFEST = /^\.compact-(.+)\.inputs$/;

/**
 * A descriptor of path for reading, opened without waiting; undefined for what is no regular file:
 * opening a named pipe waits for a writer, for good, with the event loop.
 */
export function openRegularFile(path: string): number | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  return undefined;
}

/** The text of a small file inlet wrote (a merge manifest); a named pipe under its name throws. */
export function readOwnFile(path: string): string {
  const fd = openRegularFile(path);
  if (fd === undefined) throw new Error(`${path} is no regular file`);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Inputs of merges that finished (their merged file is there) but were not removed yet: between the
 * merged file's rename and its inputs' removal, or after a crash there. Their rows are in the merged file.
 */
function mergedInputs(dir: string, names: readonly string[]): Set<string> {
  const merged = new Set<string>();
  for (const name of names) {
    const output = MERGE_MANIFEST.exec(name)?.[1];
    if (output === undefined || !names.includes(`${output}.parquet`)) continue;
    try {
      for (const input of JSON.parse(readOwnFile(join(dir, name))) as string[])
        if (input !== `${output}.parquet`) merged.add(input);
    } catch {
      // Its merge's inputs were removed and the manifest with them since the listing.
    }
  }
  return merged;
}

/**
 * Visible Parquet files of one Hive partition directory: temporaries (their names start with a dot)
 * and the inputs of a finished merge are skipped, so no reader counts a merged row twice, and so is
 * anything that is not a file, a symbolic link included (linkedFiles names them).
 */
export function partitionFiles(dir: string): PartitionFile[] {
  if (!existsSync(dir)) return [];
  const out: PartitionFile[] = [];
  const names = readdirSync(dir);
  const merged = mergedInputs(dir, names);
  for (const name of names) {
    if (name.startsWith('.') || !name.endsWith('.parquet') || merged.has(name)) continue;
    const path = join(dir, name);
    try {
      // inlet writes no links. One to a file outside the lake (ln -s /backups/x.parquet) is a file
      // the query engine may not read (it reads the lake's directory alone, links resolved): listed,
      // it made every query fail, LAKE_UNREADABLE. One inside would be a file read twice.
      const stats = lstatSync(path);
      // A folder under a file's name (made by hand where a file was) is no file to read: DuckDB
      // finds no file at its path, and every query of the table failed with it, for good.
      if (stats.isFile()) out.push({ name, path, bytes: stats.size });
    } catch {
      // Compacted away between the listing and the stat.
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Partition directories (dt=…) under a table directory that a file entered or left at sinceMs or
 * later. Files enter by a rename into the directory after they are written, so a directory last
 * changed before sinceMs holds no file written after it.
 */
export function partitionsChangedSince(tableDir: string, sinceMs: number): string[] {
  return partitions(tableDir).filter((partition) => {
    try {
      return statSync(join(tableDir, partition)).mtimeMs >= sinceMs;
    } catch {
      return false;
    }
  });
}

const PARTITION = /^dt=(\d{4}-\d{2}-\d{2})$/;

/**
 * Whether name is a partition's: dt= and a day that exists, which DuckDB casts to DATE, or the name
 * DuckDB gives rows whose dt is NULL, which it reads back as NULL.
 */
function partitionName(name: string): boolean {
  if (name === 'dt=__HIVE_DEFAULT_PARTITION__') return true;
  const day = PARTITION.exec(name)?.[1];
  return day !== undefined && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

/**
 * Partition directories (dt=YYYY-MM-DD) under a table directory. Other entries named dt=… are no
 * partition: a file (dt=2026-12-06 written by hand) failed every query and load with ENOTDIR, and
 * inlet start with it, and a directory whose day is no date (dt=garbage, a copy dt=2026-12-05.bak)
 * failed every query that read dt, as DuckDB could not cast its name to a DATE.
 */
export function partitions(tableDir: string): string[] {
  if (!existsSync(tableDir)) return [];
  return readdirSync(tableDir)
    .filter(
      (name) =>
        partitionName(name) &&
        statSync(join(tableDir, name), { throwIfNoEntry: false })?.isDirectory() === true,
    )
    .sort();
}

/** The visible Parquet files of every partition of a table directory (lake/events). */
export function eventFiles(tableDir: string): string[] {
  return partitions(tableDir).flatMap((partition) =>
    partitionFiles(join(tableDir, partition)).map((f) => f.path),
  );
}

/**
 * The entries of one directory of the lake with their paths, sorted, and with deep those of every
 * folder below it too: a folder that is a symbolic link is not entered, as DuckDB's ** enters none.
 */
export function lakeEntries(dir: string, deep = false): Array<{ path: string; entry: Dirent }> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // not there, or removed since it was listed
  }
  return entries
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return [{ path, entry }, ...(deep && entry.isDirectory() ? lakeEntries(path, true) : [])];
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Symbolic links named *.parquet in one directory of the lake (with deep, in the folders below it
 * too: a mart's version), which no reader of the lake reads (inlet writes none).
 */
export function parquetLinks(dir: string, deep = false): string[] {
  return lakeEntries(dir, deep)
    .filter(({ entry }) => entry.isSymbolicLink() && entry.name.endsWith('.parquet'))
    .map(({ path }) => path);
}

/** Symbolic links named *.parquet in a table directory's partitions, which partitionFiles() leaves out, for a warning naming them. */
export function linkedFiles(tableDir: string): string[] {
  return partitions(tableDir).flatMap((partition) => parquetLinks(join(tableDir, partition)));
}

/** The warning that names a symbolic link a table's readers leave out, and what to do instead. */
export const linkedFileWarning = (link: string): string =>
  `${link} is a symbolic link, which inlet does not read (the query engine reads files inside the lake alone), so its rows are not queried; copy the file itself into the lake, or move the link out`;

/** Entries named dt=… under a table directory that partitions() leaves out, for a warning naming them. */
export function strayPartitions(tableDir: string): string[] {
  if (!existsSync(tableDir)) return [];
  const kept = new Set(partitions(tableDir));
  return readdirSync(tableDir)
    .filter((name) => name.startsWith('dt=') && !kept.has(name))
    .sort();
}
