import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments, segmentPath } from '../wal/index.ts';

/** What a table's files look like on disk: size, partitions, and when they last changed. */
export interface FileStats {
  files: number;
  bytes: number;
  /** dt=… partition values, sorted. */
  partitions: string[];
  /** Newest modification time of any file that is not empty, ISO; null when there is none. */
  updatedAt: string | null;
}

export const NO_FILES: FileStats = { files: 0, bytes: 0, partitions: [], updatedAt: null };

/**
 * Sums the visible Parquet files under dir (dot- and _-prefixed entries are not data), as queries
 * read them: a symbolic link named *.parquet (ln -s /backups/x.parquet) is read by no query, so it
 * is counted in neither files nor bytes.
 */
export function fileStats(dir: string): FileStats {
  const partitions = new Set<string>();
  let files = 0;
  let bytes = 0;
  let newest = 0;
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
      const full = join(path, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('dt=')) partitions.add(entry.name.slice(3));
        walk(full);
      } else if (entry.name.endsWith('.parquet') && !entry.isSymbolicLink()) {
        try {
          const stat = statSync(full);
          files++;
          bytes += stat.size;
          // An empty file holds no rows, so its time is no update.
          if (stat.size > 0) newest = Math.max(newest, stat.mtimeMs);
        } catch {
          // Compacted or cleaned up between the listing and the stat.
        }
      }
    }
  };
  if (existsSync(dir) && statSync(dir).isFile()) {
    const stat = statSync(dir);
    return { files: 1, bytes: stat.size, partitions: [], updatedAt: new Date(stat.mtimeMs).toISOString() };
  }
  walk(dir);
  return {
    files,
    bytes,
    partitions: [...partitions].sort(),
    updatedAt: newest > 0 ? new Date(newest).toISOString() : null,
  };
}

/**
 * The stats of a WAL's segments, which queries of events read where they lie, leaving out what no
 * query reads: an empty segment (inlet start opens one at each start) and a .log file that is no
 * segment (garbage.log, one renamed by hand).
 */
export function walStats(dir: string): FileStats {
  let stats = NO_FILES;
  for (const path of listSegments(dir).map((segment) => segmentPath(dir, segment))) {
    try {
      const { size, mtimeMs } = statSync(path);
      if (size > 0)
        stats = addStats(stats, {
          files: 1,
          bytes: size,
          partitions: [],
          updatedAt: new Date(mtimeMs).toISOString(),
        });
    } catch {
      // Loaded and deleted between the listing and the stat.
    }
  }
  return stats;
}

/** Adds two sets of stats (the lake part and the WAL part of events). */
export function addStats(a: FileStats, b: FileStats): FileStats {
  const updated = [a.updatedAt, b.updatedAt].filter((t): t is string => t !== null).sort();
  return {
    files: a.files + b.files,
    bytes: a.bytes + b.bytes,
    partitions: [...new Set([...a.partitions, ...b.partitions])].sort(),
    updatedAt: updated.at(-1) ?? null,
  };
}

/** The directory a manifest's files glob starts from: the part before the first wildcard. */
export function globRoot(dir: string, files: string): string {
  const fixed: string[] = [];
  for (const part of files.split('/')) {
    if (/[*?[{]/.test(part)) break;
    fixed.push(part);
  }
  return join(dir, ...fixed);
}
