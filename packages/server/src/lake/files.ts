import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** fsyncs a file or directory by path. */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a finished temporary file visible under its final name, durably: fsync, rename, fsync the directory. */
export function publish(tmpPath: string, finalPath: string, dir: string): void {
  syncPath(tmpPath);
  renameSync(tmpPath, finalPath);
  syncPath(dir);
}

/** syncPath on libuv's thread pool. */
async function syncPathAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
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

/** Visible Parquet files of one Hive partition directory (temporaries start with a dot and are skipped). */
export function partitionFiles(dir: string): PartitionFile[] {
  if (!existsSync(dir)) return [];
  const out: PartitionFile[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.') || !name.endsWith('.parquet')) continue;
    const path = join(dir, name);
    try {
      out.push({ name, path, bytes: statSync(path).size });
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

/** Partition directories (dt=…) under a table directory. */
export function partitions(tableDir: string): string[] {
  if (!existsSync(tableDir)) return [];
  return readdirSync(tableDir)
    .filter((name) => name.startsWith('dt='))
    .sort();
}
