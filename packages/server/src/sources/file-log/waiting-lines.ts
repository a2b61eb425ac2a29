import type { PartialLine } from './file-reader.ts';
import { fileKey as keyOf, type TrackedFile } from './file-tracker.ts';
import { createLineSplitter } from './line-splitter.ts';

/** The files without the waiting lines the checkpoint keeps with them (held in `partials` meanwhile). */
export const withoutWaiting = (files: readonly TrackedFile[]) =>
  files.map(({ waiting: _, ...f }): TrackedFile => ({ ...f }));

/**
 * The last lines of a file source's files that wait for their newline, as far as they were read:
 * kept between reads (file-reader.ts goes on with them), in the checkpoint (TrackedFile.waiting)
 * and in the plan (TrackedFile.unended), so that none is read again from its start.
 */
export interface WaitingLines {
  /** The last lines read without their newline yet, by dev:ino, for file-reader.ts to go on with. */
  partials: Map<string, PartialLine>;
  /** Takes the lines a checkpoint's files keep, as far as they were read, dropping any held before. */
  restore(files: readonly TrackedFile[]): void;
  /** The files with the lines they end with that wait for their newline, for the checkpoint. */
  withWaiting(base: readonly TrackedFile[]): TrackedFile[];
  /**
   * The files with the line each ends with that waits for its newline, as far as it was read, for
   * the plan: a file the plan finds emptied (copytruncate) or that is gone takes it along, and once
   * nothing the globs look at holds the file's content, the line is written as it is
   * (endRecordsOfGoneFiles). A file still there drops it again, its line read on from the file.
   */
  withUnended(base: readonly TrackedFile[]): TrackedFile[];
  /** Forgets the lines of files not in `tracked` (dev:ino). */
  prune(tracked: ReadonlySet<string>): void;
}

/** Creates the waiting-line bookkeeping of one file source, with lines of up to `maxLineBytes`. */
export function createWaitingLines(maxLineBytes: number): WaitingLines {
  const partials = new Map<string, PartialLine>();
  /**
   * The line a file ends with that waits for its newline, as far as it was read (its first bytes
   * in base64), when it is the line at the file's offset in the content the file is known by.
   */
  const waitingLine = (f: TrackedFile) => {
    const kept = partials.get(keyOf(f));
    const line = kept?.splitter.pending();
    if (
      !kept ||
      !line ||
      f.gz ||
      kept.start !== f.offset ||
      line.start !== f.offset ||
      kept.head !== f.head ||
      kept.headBytes !== f.headBytes ||
      kept.headAt !== f.headAt
    )
      return undefined;
    return {
      readTo: kept.readTo,
      head: line.head.toString('base64'),
      bytes: line.bytes,
      warned: kept.warned,
    };
  };
  return {
    partials,
    restore(files) {
      partials.clear();
      for (const f of files) {
        const { waiting } = f;
        if (!waiting || f.gz || f.ino === -1) continue;
        const head = Buffer.from(waiting.head, 'base64');
        // Kept under another max_line_bytes, or not as saved: the line is read again from its start.
        if (head.length !== Math.min(waiting.bytes, maxLineBytes)) continue;
        if (waiting.readTo - f.offset !== waiting.bytes) continue;
        partials.set(keyOf(f), {
          start: f.offset,
          readTo: waiting.readTo,
          head: f.head,
          headBytes: f.headBytes,
          headAt: f.headAt,
          splitter: createLineSplitter(maxLineBytes, { start: f.offset, head, bytes: waiting.bytes }),
          ...(waiting.warned ? { warned: true } : {}),
        });
      }
    },
    withWaiting: (base) =>
      base.map(({ waiting: _, ...f }): TrackedFile => {
        const line = waitingLine(f);
        if (!line) return { ...f };
        const { warned, ...waiting } = line;
        return { ...f, waiting: warned ? { ...waiting, warned: true } : waiting };
      }),
    withUnended: (base) =>
      base.map((f): TrackedFile => {
        const line = waitingLine(f);
        if (!line) return f;
        const { readTo, head, bytes } = line;
        // Kept from the scans before: a deleted file's line is planned again while inlet remembers it.
        return { ...f, unended: { head, bytes, readTo, missedScans: f.unended?.missedScans ?? 0 } };
      }),
    prune(tracked) {
      for (const key of partials.keys()) if (!tracked.has(key)) partials.delete(key);
    },
  };
}

/** A line kept without its newline (first bytes in base64) as the line it is, read to `readTo`. */
export const heldLine = (
  maxLineBytes: number,
  held: { start: number; head: string; bytes: number; readTo: number },
) =>
  createLineSplitter(maxLineBytes, {
    start: held.start,
    head: Buffer.from(held.head, 'base64'),
    bytes: held.bytes,
  }).finish(held.readTo);
