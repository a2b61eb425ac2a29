import { createDockerPartJoiner, type DockerPartJoiner } from './docker-partials.ts';
import { fileKey as keyOf, type ReadTask, type TrackedFile } from './file-tracker.ts';
import type { SplitLine } from './line-splitter.ts';

/**
 * A file source's Docker json-file part joiners between reads: the one a read starts with, what
 * each file keeps of the split lines it waits for (TrackedFile.dockerSplits), and which files wait
 * at a split line's first part.
 */
export interface DockerSplitKeeper {
  /** The joiner for a read, and where the read goes on from when it is the one kept (else from the offset). */
  joinerFor(task: ReadTask): { docker: DockerPartJoiner; from: number | undefined };
  /** After a line: keeps with the file what a read again from its offset, a split line's first part, skips. */
  noteHeld(file: TrackedFile, docker: DockerPartJoiner): void;
  /** Adds the lines held (no more is written to the file), each split line's parts so far standing on its own. */
  finish(
    file: TrackedFile,
    docker: DockerPartJoiner,
    addLine: (file: TrackedFile, line: SplitLine) => void,
  ): void;
  /** After a read (`read`: it read to the end it was given): keeps its joiner if it holds split lines. */
  afterRead(file: TrackedFile, docker: DockerPartJoiner, read: boolean): void;
  /** Whether the file's offset waits at a split line's first part, for its last part (not a newline). */
  isWaiting(file: TrackedFile): boolean;
  /** Forgets the joiners kept for files not in `tracked` (dev:ino). */
  prune(tracked: ReadonlySet<string>): void;
  /** Forgets every joiner kept: the files go back to a checkpoint. */
  clear(): void;
}

/** Creates the Docker split-line bookkeeping of one file source, joining lines of up to `maxLineBytes`. */
export function createDockerSplitKeeper(maxLineBytes: number): DockerSplitKeeper {
  /** The files whose offset stays at the first part of a line Docker split, waiting for its last part. */
  const splitWaiting = new Set<string>();
  /**
   * The Docker joiners whose read ended holding split lines, by dev:ino, with the file as it was then
   * and how far they read: the next read goes on with one from there. Made anew for each read, a
   * joiner had the file read again from a split line's first part every poll_ms while its last part
   * was awaited (the parts so far, up to max_line_bytes, and the lines after them, each time).
   */
  const kept = new Map<string, { joiner: DockerPartJoiner; file: TrackedFile; readTo: number }>();
  return {
    joinerFor({ file, candidate }) {
      const before = kept.get(keyOf(file));
      kept.delete(keyOf(file));
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
        return { docker: before.joiner, from: before.readTo };
      return { docker: createDockerPartJoiner(maxLineBytes, file.dockerSplits), from: undefined };
    },
    noteHeld(file, docker) {
      const held = docker.held();
      if (held) file.dockerSplits = held;
      else delete file.dockerSplits;
    },
    finish(file, docker, addLine) {
      // The lines held after the parts go too (one may end before the parts do: the offset stays past all).
      for (const line of docker.finish()) {
        addLine(file, line);
        file.offset = Math.max(file.offset, line.end, file.dockerSplits?.readTo ?? 0);
        delete file.dockerSplits;
      }
    },
    afterRead(file, docker, read) {
      if (docker.pendingStart() === file.offset) {
        splitWaiting.add(keyOf(file));
        const held = docker.held();
        if (read && held) kept.set(keyOf(file), { joiner: docker, file: { ...file }, readTo: held.readTo });
      } else splitWaiting.delete(keyOf(file));
    },
    isWaiting: (file) => splitWaiting.has(keyOf(file)),
    prune(tracked) {
      for (const key of kept.keys()) if (!tracked.has(key)) kept.delete(key);
    },
    clear: () => kept.clear(),
  };
}
