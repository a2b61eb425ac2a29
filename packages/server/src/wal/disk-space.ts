import { closeSync, fdatasyncSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { monotonicMs } from './monotonic-clock.ts';
import { ensureDir } from './segment-rewrite.ts';

/** Free space beyond wal.min_free_bytes (0 or not) a probe wants before it calls the WAL writable again. */
export const PROBE_ROOM = 1024 * 1024;

function diskFree(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Free space on the WAL's disk as the writer sees it: what the disk said when last asked, less the
 * bytes accepted since.
 */
export function createRoomCheck(options: {
  dir: string;
  /** Appends that would leave less free space than this are refused; 0 or absent: no check. */
  minFreeBytes?: number | undefined;
  /** Free bytes on the disk; statfs of dir by default. */
  freeBytes?: ((dir: string) => number) | undefined;
}) {
  let freeBytes = Number.POSITIVE_INFINITY;
  let freeCheckedAt = Number.NEGATIVE_INFINITY;
  let acceptedSinceCheck = 0;
  return {
    /**
     * Whether bytes more would leave at least minFreeBytes free; asks the disk every second, when
     * close, or when fresh (which asks even with minFreeBytes off).
     */
    roomFor(bytes: number, fresh = false): boolean {
      const min = options.minFreeBytes ?? 0;
      if (min <= 0 && !fresh) return true;
      const now = monotonicMs();
      if (fresh || now - freeCheckedAt >= 1000 || freeBytes - acceptedSinceCheck - bytes < min) {
        try {
          freeBytes = (options.freeBytes ?? diskFree)(options.dir);
        } catch {
          // Cannot tell: the write itself will say.
          freeBytes = Number.POSITIVE_INFINITY;
        }
        freeCheckedAt = now;
        acceptedSinceCheck = 0;
      }
      return freeBytes - acceptedSinceCheck - bytes >= min;
    },
    /** Counts bytes accepted for writing since the disk was last asked. */
    accepted(bytes: number): void {
      acceptedSinceCheck += bytes;
    },
  };
}

/**
 * Writes and syncs a small file beside the segments and removes it: whether the disk takes writes
 * again (the folder made again when it is gone).
 */
export function probeWrites(dir: string): boolean {
  const path = join(dir, '.probe');
  let taken = false;
  try {
    ensureDir(dir);
    const probeFd = openSync(path, 'w');
    try {
      writeSync(probeFd, Buffer.alloc(4096));
      fdatasyncSync(probeFd);
    } finally {
      closeSync(probeFd);
    }
    taken = true;
  } catch {
    // Still refused: stays unwritable.
  }
  try {
    rmSync(path, { force: true });
  } catch {
    // The folder is gone or a file stands in its place (ENOTDIR): no probe file to remove.
  }
  return taken;
}
