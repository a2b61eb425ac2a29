import { createDockerPartJoiner, type DockerPartJoiner } from './docker-partials.ts';
import { fileKey as keyOf, type ReadTask, type TrackedFile } from './file-tracker.ts';
import { createKeptJoiners } from './kept-joiners.ts';
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
  /** The joiners whose read ended holding split lines: the next read goes on with one. */
  const keptJoiners = createKeptJoiners<DockerPartJoiner>();
  return {
    joinerFor(task) {
      const kept = keptJoiners.take(task);
      return kept
        ? { docker: kept.joiner, from: kept.from }
        : { docker: createDockerPartJoiner(maxLineBytes, task.file.dockerSplits), from: undefined };
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
        if (read && held) keptJoiners.keep(file, docker, held.readTo);
      } else splitWaiting.delete(keyOf(file));
    },
    isWaiting: (file) => splitWaiting.has(keyOf(file)),
    prune: (tracked) => keptJoiners.prune(tracked),
    clear: () => keptJoiners.clear(),
  };
}
