import { rmSync } from 'node:fs';
import type { StateStore } from '../../state/index.ts';
import type { FirstField } from './access-log-parser.ts';
import type { TrackedFile } from './file-tracker.ts';

const SCOPE = 'file-log';

/**
 * A source's checkpoint, one JSON value in the state store. `pending` lists the files of a batch
 * being published: they are in the lake only once the checkpoint that covers them is saved
 * without `pending`, so after a crash in between they are deleted and their lines read again.
 */
export interface FileCheckpoint {
  version: 1;
  files: TrackedFile[];
  /** Batches written so far; the next one's files are named after it, so names never repeat. */
  batches: number;
  pending?: string[];
  /**
   * What the access log lines have shown of the field before the client (access-log-parser.ts): a
   * run whose first lines are requests to the bare IP address ($host 10.0.0.1) reads them aright.
   */
  firstField?: FirstField;
}

export function loadCheckpoint(state: StateStore, source: string): FileCheckpoint | undefined {
  const value = state.getCheckpoint<FileCheckpoint>(SCOPE, source);
  return value?.version === 1 ? value : undefined;
}

export function saveCheckpoint(state: StateStore, source: string, checkpoint: FileCheckpoint): void {
  state.setCheckpoint(SCOPE, source, checkpoint);
}

/** Undoes a batch a crash left half-published; returns the checkpoint to continue from. */
export function recoverCheckpoint(state: StateStore, source: string): FileCheckpoint | undefined {
  const checkpoint = loadCheckpoint(state, source);
  if (!checkpoint?.pending) return checkpoint;
  for (const path of checkpoint.pending) rmSync(path, { force: true });
  const clean: FileCheckpoint = {
    version: 1,
    files: checkpoint.files,
    batches: checkpoint.batches ?? 0,
    ...(checkpoint.firstField ? { firstField: checkpoint.firstField } : {}),
  };
  saveCheckpoint(state, source, clean);
  return clean;
}
