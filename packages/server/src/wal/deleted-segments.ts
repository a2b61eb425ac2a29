import { closeSync } from 'node:fs';
import type { Logger } from '../log/index.ts';
import { segmentPath } from './segment-files.ts';
import { rewriteSegment, segmentGone } from './segment-rewrite.ts';

/** A segment whose file went away while open, and was written again from what inlet held open. */
export interface DeletedSegment {
  segment: number;
  path: string;
  /** Bytes written again: every record of it that was acknowledged, and those being written. */
  bytes: number;
  /** When it was noticed (ISO 8601). */
  at: string;
}

/** The segment the writer has open: its id, descriptor, size and how much of it an fdatasync covered. */
export interface OpenSegment {
  id: number;
  fd: number;
  size: number;
  syncedSize: number;
}

/**
 * Segments whose files went away while open (data/wal/events removed by hand: every write and sync
 * still succeeds, into a file no loader will see), each kept open with the bytes of it that were
 * acknowledged until it can be written to its name again, so the loader finds it.
 */
export function createDeletedSegments(dir: string, onSegmentDeleted?: (deleted: DeletedSegment) => void) {
  const orphans = new Map<number, { fd: number; bytes: number }>();
  let lastDeleted: DeletedSegment | undefined;
  return {
    /** Whether segment's file is gone and has not been written again yet. */
    has: (segment: number) => orphans.has(segment),
    /** Whether any segment is still to be written again. */
    any: () => orphans.size > 0,
    /** Whether fd is held for a segment still to be written again, and must stay open. */
    holds(fd: number): boolean {
      for (const orphan of orphans.values()) if (orphan.fd === fd) return true;
      return false;
    },
    /** The last segment found deleted and written again; undefined if none. */
    last: () => lastDeleted,
    /**
     * Writes the open segment again when it is gone, and with retry those that could not be before.
     * Returns the error of one that still cannot be, and the open segment's descriptor from now on.
     */
    rescue(open: OpenSegment, retry: boolean): { failure: unknown; fd: number } {
      let fd = open.fd;
      if (!orphans.has(open.id) && segmentGone(dir, open.id, fd))
        orphans.set(open.id, { fd, bytes: open.size });
      let failure: unknown;
      for (const [segment, orphan] of orphans) {
        if (!retry && segment !== open.id) continue;
        const current = segment === open.id && orphan.fd === fd;
        try {
          const fresh = rewriteSegment(dir, segment, orphan.fd, orphan.bytes);
          orphans.delete(segment);
          closeSync(orphan.fd);
          if (current) fd = fresh;
          else closeSync(fresh);
          lastDeleted = {
            segment,
            path: segmentPath(dir, segment),
            bytes: orphan.bytes,
            at: new Date().toISOString(),
          };
          onSegmentDeleted?.(lastDeleted);
        } catch (error) {
          failure = error;
          // What was written to it from now on is refused: only what was acknowledged is kept.
          if (current) orphan.bytes = Math.min(orphan.bytes, open.syncedSize);
        }
      }
      return { failure, fd };
    },
    /** Closes the descriptors held for segments still to be written again, but open's. */
    close(openFd: number): void {
      for (const orphan of orphans.values()) if (orphan.fd !== openFd) closeSync(orphan.fd);
    },
  };
}

/**
 * onSegmentDeleted for a WAL: an error line, once per segment found deleted. Its acknowledged
 * records were saved; those of sealed segments removed with it, not yet loaded, were not.
 */
export function walDeletedLogger(logger: Logger, wal: string): (deleted: DeletedSegment) => void {
  return (deleted) =>
    logger.error(
      { wal, segment: deleted.segment, path: deleted.path, bytes: deleted.bytes },
      `WAL segment ${deleted.path} was deleted while inlet wrote it (its folder removed by hand or by a clean-up job?): inlet wrote what it held, ${deleted.bytes} bytes, to it again, so no event it acknowledged there is lost; segments removed with it that the loader had not loaded yet are. Do not delete the WAL folder while inlet runs`,
    );
}
