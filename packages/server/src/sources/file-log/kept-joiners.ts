import { fileKey, type ReadTask, type TrackedFile } from './file-tracker.ts';

/**
 * The joiners a file source's reads ended holding lines in (the parts of a line Docker split, a
 * multi-line record still gathering lines), by dev:ino, with the file as it was then and how far
 * they read. Made anew for each read, a joiner had its file read again from the held lines' start
 * every poll_ms until they ended (up to max_line_bytes, and the lines after them, each time).
 */
export interface KeptJoiners<J> {
  /** The joiner kept for the task's file and where its read goes on from, when the file is as it was; forgets it either way. */
  take(task: ReadTask): { joiner: J; from: number } | undefined;
  /** Keeps the joiner a read of `file` ended with, having read to `readTo`. */
  keep(file: TrackedFile, joiner: J, readTo: number): void;
  /** Forgets the joiners kept for files not in `tracked` (dev:ino). */
  prune(tracked: ReadonlySet<string>): void;
  /** Forgets every joiner kept: the files go back to a checkpoint. */
  clear(): void;
}

/** Creates an empty set of kept joiners. */
export function createKeptJoiners<J>(): KeptJoiners<J> {
  const kept = new Map<string, { joiner: J; file: TrackedFile; readTo: number }>();
  return {
    take({ file, candidate }) {
      const before = kept.get(fileKey(file));
      kept.delete(fileKey(file));
      // Kept only for the content it read: not emptied, rewritten or moved on from since.
      if (
        before &&
        before.file.offset === file.offset &&
        before.file.head === file.head &&
        before.file.headBytes === file.headBytes &&
        before.file.headAt === file.headAt &&
        before.file.size <= candidate.size &&
        before.readTo <= candidate.size
      )
        return { joiner: before.joiner, from: before.readTo };
      return undefined;
    },
    keep(file, joiner, readTo) {
      kept.set(fileKey(file), { joiner, file: { ...file }, readTo });
    },
    prune(tracked) {
      for (const key of kept.keys()) if (!tracked.has(key)) kept.delete(key);
    },
    clear: () => kept.clear(),
  };
}
