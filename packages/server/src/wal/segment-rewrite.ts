import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { syncPath } from '../fsync.ts';
import { listSegments, segmentName, segmentPath } from './segment-files.ts';

/** The code of the refusal made when a segment's file or the WAL folder went away and cannot be made again. */
export const SEGMENT_DELETED = 'INLET_SEGMENT_DELETED';

/**
 * Makes dir if it is gone (data/wal/events removed while inlet runs), durably: each folder made
 * is synced into its parent. Throws SEGMENT_DELETED when it cannot be made.
 */
export function ensureDir(dir: string): void {
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw deletedError(`the WAL folder ${dir} was deleted and cannot be made again`, error);
  }
  if (created === undefined) return;
  for (let made = dir; ; made = dirname(made)) {
    syncPath(dirname(made));
    if (made === created) break;
  }
}

/**
 * Whether the file of a segment open at fd is no longer where the loader looks for it: unlinked
 * (nlink 0), its folder removed, or moved away. Its bytes then reach no loader, though every write
 * and fdatasync on fd still succeeds. An error other than a missing path says nothing: false.
 */
export function segmentGone(dir: string, segment: number, fd: number): boolean {
  const open = fstatSync(fd, { bigint: true });
  if (open.nlink === 0n) return true;
  try {
    const named = statSync(segmentPath(dir, segment), { bigint: true });
    return named.ino !== open.ino || named.dev !== open.dev;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/**
 * Writes the first `bytes` bytes of a segment whose file is gone (read through its descriptor,
 * which still holds them) to a new file under the segment's name, making the folder again if need
 * be, and returns the new file's descriptor, open for appending. The copy is synced before it
 * takes the name, and never replaces a file that has it. Throws SEGMENT_DELETED when it cannot.
 */
export function rewriteSegment(dir: string, segment: number, fd: number, bytes: number): number {
  const path = segmentPath(dir, segment);
  const tmp = join(dir, `.${segmentName(segment)}.rewrite`);
  let fresh: number | undefined;
  try {
    ensureDir(dir);
    rmSync(tmp, { force: true });
    fresh = openSync(tmp, 'a+');
    const chunk = Buffer.allocUnsafe(Math.min(bytes, 1 << 20));
    for (let at = 0; at < bytes; ) {
      const read = readSync(fd, chunk, 0, Math.min(chunk.length, bytes - at), at);
      if (read === 0) throw new Error(`the open segment ends at ${at} of ${bytes} bytes`);
      for (let written = 0; written < read; ) written += writeSync(fresh, chunk, written, read - written);
      at += read;
    }
    fdatasyncSync(fresh);
    linkSync(tmp, path);
    unlinkSync(tmp);
    syncPath(dir);
    return fresh;
  } catch (error) {
    if (fresh !== undefined) closeSync(fresh);
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The folder is gone or not one: there is no copy to remove.
    }
    if ((error as { code?: string }).code === SEGMENT_DELETED) throw error;
    throw deletedError(
      `WAL segment ${path} was deleted while inlet wrote it and cannot be written again`,
      error,
    );
  }
}

const REWRITE = /^\.(\d{16})\.log\.rewrite$/;

/**
 * Finishes what a crash interrupted in rewriteSegment, before the WAL opens: a copy not yet under
 * its segment's name is all that is left of that segment, and takes the name (recovery then cuts a
 * torn tail); a copy already linked under it is the same file twice, and its extra name goes.
 */
export function recoverRewrites(dir: string): void {
  let changed = false;
  for (const name of readdirSync(dir)) {
    const match = REWRITE.exec(name);
    if (!match) continue;
    const copy = join(dir, name);
    const segment = Number(match[1]);
    const named = statSync(segmentPath(dir, segment), { throwIfNoEntry: false, bigint: true });
    const own = statSync(copy, { bigint: true });
    if (named === undefined) renameSync(copy, segmentPath(dir, segment));
    else if (named.ino === own.ino && named.dev === own.dev) unlinkSync(copy);
    // Another file took the name meanwhile: the copy goes after every segment, so neither is lost.
    else renameSync(copy, segmentPath(dir, (listSegments(dir).at(-1) ?? segment) + 1));
    changed = true;
  }
  if (changed) syncPath(dir);
}

function deletedError(message: string, cause: unknown): Error {
  const detail = (cause as Error | undefined)?.message;
  return Object.assign(new Error(detail ? `${message}: ${detail}` : message, { cause }), {
    code: SEGMENT_DELETED,
  });
}
