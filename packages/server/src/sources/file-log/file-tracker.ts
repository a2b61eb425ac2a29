import { createHash } from 'node:crypto';
import type { DockerSplitsHeld } from './docker-partials.ts';

/**
 * What the checkpoint remembers about one file it has read. A file is known by its inode while it
 * keeps one, and by a hash of its first bytes when its content moves to another inode: a copy
 * (copytruncate) or its .gz. Offsets count content bytes, so they stay valid inside a .gz.
 */
/** A tracked file's dev:ino, the key it is kept by while its path changes. */
export const fileKey = (f: { dev: number; ino: number }) => `${f.dev}:${f.ino}`;

export interface TrackedFile {
  dev: number;
  ino: number;
  gz: boolean;
  /** Hash of the `headBytes` bytes of content from `headAt` (grows to HEAD_BYTES as the file does). */
  head: string;
  headBytes: number;
  /**
   * Where the content starts: after the zero bytes a writer without O_APPEND leaves when it goes on
   * at its old offset in a file copytruncate emptied. Hashed from byte 0, every such file had the
   * same head (zeros), so the next copy was taken for the file still being read and its unread
   * lines were lost. Absent in checkpoints saved before: their head was hashed from byte 0.
   */
  headAt?: number;
  /** Content bytes consumed: everything before it is in the lake or in the rejects. */
  offset: number;
  /**
   * Hash of the `bytes` bytes of content from `at`, read up to the offset as it was then (up to
   * HEAD_BYTES: the last lines read). A file emptied and written again past the offset between two
   * looks, beginning as before (a writer that starts each run with the same lines), still has its
   * first KiB; these bytes it has not, unless it holds again exactly what was read. Absent in
   * checkpoints saved before, and until something before the offset is read.
   */
  before?: { at: number; bytes: number; hash: string };
  /**
   * The offset is inside a multi-line record that was cut off (multiline.max_lines): its lines up
   * to the next record's first line are dropped, after a restart too.
   */
  skipping?: boolean;
  /**
   * The lines of the record still gathering lines at `offset`, as last read, and where they end.
   * Once the file is deleted or emptied with its content nowhere the globs look, nothing can read
   * them again: they are written as the record. `missedScans` counts the scans that found it so.
   */
  gathered?: {
    text: string;
    end: number;
    missedScans: number;
    /** The line after the record still without its newline, as `unended` below holds one. */
    tail?: { start: number; head: string; bytes: number; readTo: number };
  };
  /**
   * The line at `offset` still without its newline when the file was emptied (copytruncate) or
   * deleted, as far as it was read (to `readTo`): its first bytes (base64, at most max_line_bytes)
   * and its length. Written as a line once the file's content is nowhere the globs look, as
   * `gathered` is; `missedScans` counts the scans that found it so.
   */
  unended?: { head: string; bytes: number; readTo: number; missedScans: number };
  /**
   * In the checkpoint only: the line at `offset` still without its newline, as far as it was read
   * (to `readTo`): its first bytes (base64, at most max_line_bytes) and its length. A restart or the
   * next inlet sync reads only what was added to it since. `warned`: said to wait for its newline.
   */
  waiting?: { readTo: number; head: string; bytes: number; warned?: true };
  /**
   * The offset of the line Docker split that the file ends with the parts of, once said to wait for
   * its last part: said once, across restarts and runs of inlet sync too, as `waiting.warned` does.
   */
  splitWarned?: number;
  /**
   * The lines Docker split still awaiting their last part, the first of which `offset` is at: the
   * other lines read past it were written, and are skipped when it is read again.
   */
  dockerSplits?: DockerSplitsHeld;
  /**
   * The time of the last record of a multi-line source read from this file that had one of its own
   * (epoch ms): a record with none (a Go panic or Python traceback written as text between JSON
   * lines) takes it, as it belongs with the lines around it, not at the time it was read.
   */
  lastTsMs?: number;
  /** A .gz read to its end: never read again while its inode holds this size. */
  done: boolean;
  /** Last size and mtime seen (compressed size for a .gz). */
  size: number;
  mtimeMs: number;
  path: string;
  /**
   * The file a symlinked path named when it was read through the link: once the link points to
   * another file, this one is looked at where it is, as a rotated file, for the lines written to
   * it after the last read.
   */
  target?: string;
  seenAt: number;
}

/** A file found by the globs now. */
export interface Candidate {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /**
   * When the file was made, where the filesystem keeps it (0 where not): the file at the inode read
   * is this one, not one made since under the same inode number (deleted, and the number reused).
   */
  birthtimeMs?: number;
  gz: boolean;
}

export interface ReadTask {
  candidate: Candidate;
  /** The tracked state the reader advances as lines are consumed. */
  file: TrackedFile;
}

export const HEAD_BYTES = 1024;
// A file gone for this long will not come back as a copy or a .gz of itself.
const FORGET_AFTER_MS = 7 * 24 * 3600_000;
// seenAt only has to tell a file gone for days, so it moves hourly: moved on every scan, it made an
// idle tail write its whole checkpoint again every poll_ms (225 KB a second for 1,000 quiet files).
const SEEN_EVERY_MS = 3600_000;

export const hashHead = (bytes: Buffer): string =>
  createHash('sha256').update(bytes).digest('hex').slice(0, 32);

/** Where the bytes `before` hashes lie for the file's offset now: up to HEAD_BYTES, within its content. */
export const beforeWindow = (f: TrackedFile): { at: number; bytes: number } => {
  const at = Math.max(f.headAt ?? 0, f.offset - HEAD_BYTES);
  return { at, bytes: Math.max(0, f.offset - at) };
};

/** Up to HEAD_BYTES of a file's content from `at`. */
export interface Head {
  at: number;
  bytes: Buffer;
}

export interface PlanOptions {
  now: number;
  /**
   * Up to HEAD_BYTES of the candidate's content (decompressed for a .gz) from byte `at`, or without
   * `at` from its first byte that is not zero; undefined when the path no longer names that file
   * (renamed or deleted since the scan listed it).
   */
  readHead(candidate: Candidate, at?: number): Promise<Head | undefined>;
  /** No checkpoint existed and backfill is off: existing files start at their end. */
  startAtEnd: boolean;
}

/**
 * Matches the files present now against what the checkpoint knows, and says what to read:
 * 1. same inode and the same first bytes → the same file (renamed or not); a file shorter than its
 *    offset or with other first bytes was truncated (copytruncate) and starts again at 0;
 *    "first bytes" are those from where the content starts, after any leading zero bytes;
 * 2. a file nobody claims whose first bytes are those of a file that lost its inode → that file's
 *    content under a new inode (the copy of copytruncate, or its .gz): continue at its offset;
 * 3. anything else is new and read from the start (on the first run, that is the backfill).
 * Files are renamed, copied and truncated while this runs, so nothing is decided about a file that
 * moved while being looked at, an empty new file, or a new file whose bytes so far begin a file
 * being read (a copy in progress, or a backup): they are looked at again next scan.
 */
export async function planReads(
  known: readonly TrackedFile[],
  candidates: readonly Candidate[],
  options: PlanOptions,
): Promise<{ files: TrackedFile[]; tasks: ReadTask[]; deferred: number }> {
  const files = known.map((f) => ({ ...f }));
  const byInode = new Map(files.map((f) => [`${f.dev}:${f.ino}`, f]));
  const heads = new Map<Candidate, Map<number | 'first', Head | undefined>>();
  /** The candidate's head from `at`, or from its first byte that is not zero. */
  const headOf = async (c: Candidate, at: number | 'first' = 'first') => {
    const mine = heads.get(c) ?? new Map<number | 'first', Head | undefined>();
    heads.set(c, mine);
    if (!mine.has(at)) {
      const head = await options.readHead(c, at === 'first' ? undefined : at);
      mine.set(at, head);
      // Found from the first byte that is not zero, it is also the head from there.
      if (at === 'first' && head) mine.set(head.at, head);
    }
    return mine.get(at);
  };
  const sameStart = (head: Head, f: TrackedFile) =>
    f.headBytes > 0 &&
    head.at === (f.headAt ?? 0) &&
    head.bytes.length >= f.headBytes &&
    hashHead(head.bytes.subarray(0, f.headBytes)) === f.head;
  /** Whether the candidate's content from where f's starts is f's: undefined when it moved. */
  const startsAs = async (c: Candidate, f: TrackedFile) => {
    const head = await headOf(c, f.headAt ?? 0);
    return head && sameStart(head, f);
  };
  /** Whether the candidate holds the bytes f last read before its offset: undefined when it moved. */
  const holdsBefore = async (c: Candidate, f: TrackedFile) => {
    if (!f.before) return true;
    const { at, bytes, hash } = f.before;
    const head = await headOf(c, at);
    return head && head.bytes.length >= bytes && hashHead(head.bytes.subarray(0, bytes)) === hash;
  };
  const bound = new Map<Candidate, TrackedFile>();
  const claimed = new Set<TrackedFile>();
  const later = new Set<Candidate>();
  const bind = (c: Candidate, f: TrackedFile) => {
    bound.set(c, f);
    claimed.add(f);
  };
  /**
   * The record each candidate's inode had before it was found truncated or refilled: what it holds
   * now was written since, even when it begins as before (a writer that starts each run with the
   * same lines, or a cut to a non-zero size), so it is neither that file's copy nor a copy of it in
   * progress. Taken for it, it went on at its new size and lost the lines written after the cut.
   * (It may be a new file on a reused inode, so other files can still claim it.)
   */
  const leftBy = new Map<Candidate, TrackedFile>();
  const detach = (f: TrackedFile, c: Candidate) => {
    f.ino = -1;
    leftBy.set(c, f);
  };

  for (const c of candidates) {
    const f = byInode.get(`${c.dev}:${c.ino}`);
    if (!f || f.gz !== c.gz || claimed.has(f)) continue;
    if (c.gz) {
      // A .gz never changes; another size under the same inode is another file.
      if (f.size === c.size) bind(c, f);
      else detach(f, c);
      continue;
    }
    // Not taken as unchanged for the same size and mtime without looking: mtime comes from a coarse
    // clock (a jiffy), so a copytruncate refilled to the same size within one tick looked unchanged,
    // and its new lines waited for the next write. Reading up to HEAD_BYTES a scan costs little.
    if (c.size < f.offset) {
      detach(f, c);
      continue;
    }
    // The same first bytes and size enough, but not the bytes last read before the offset: emptied
    // and written again past the offset since the last look, so the offset counts other content.
    const starts = f.headBytes > 0 ? await startsAs(c, f) : true;
    const same = starts && (await holdsBefore(c, f));
    if (same === undefined) {
      // Moved while looked at: keep what is known as it is, and look again next scan.
      claimed.add(f);
      later.add(c);
    } else if (!same) detach(f, c);
    else bind(c, f);
  }

  const orphans = files.filter((f) => !claimed.has(f) && !f.done && f.headBytes > 0);
  const reading = [...bound.keys()].filter((c) => !c.gz);
  const beginsOneBeingRead = async (head: Head, left: TrackedFile | undefined) => {
    for (const other of reading) {
      const f = bound.get(other);
      if (f === left) continue;
      const theirs = f && f.headBytes > 0 ? await headOf(other, f.headAt ?? 0) : await headOf(other);
      if (!theirs || theirs.at !== head.at) continue;
      const n = Math.min(head.bytes.length, theirs.bytes.length);
      if (n > 0 && head.bytes.subarray(0, n).equals(theirs.bytes.subarray(0, n))) return true;
    }
    return false;
  };
  /** The first of `among` whose content the candidate holds from where theirs starts. */
  const findStartingAs = async (c: Candidate, among: readonly TrackedFile[]) => {
    for (const f of among) {
      const same = await startsAs(c, f);
      if (same === undefined) return 'wait';
      if (same) return f;
    }
    return undefined;
  };
  for (const c of candidates) {
    if (bound.has(c) || later.has(c)) continue;
    const left = leftBy.get(c);
    const found =
      c.size === 0
        ? 'wait'
        : await findStartingAs(
            c,
            orphans.filter((f) => f !== left),
          );
    if (found === 'wait') {
      later.add(c);
      continue;
    }
    if (found) {
      orphans.splice(orphans.indexOf(found), 1);
      // A copy can be shorter than what was read from the original: all of it was read then.
      const offset = c.gz ? found.offset : Math.min(found.offset, c.size);
      Object.assign(found, { dev: c.dev, ino: c.ino, gz: c.gz, done: false, offset });
      // Offsets count content, but a .gz's is not read in place; a shorter copy ends before them.
      if (c.gz || (found.before && found.before.at + found.before.bytes > offset)) delete found.before;
      bind(c, found);
      continue;
    }
    const head = await headOf(c);
    if (
      !head ||
      // A .gz whose first bytes give no content (cut short at its header, not gzip at all, or of an
      // empty log) is read, which rejects a corrupt one once settled; waited for, it was never read.
      (head.bytes.length === 0 && !c.gz) ||
      (await findStartingAs(
        c,
        files.filter((f) => claimed.has(f) && f !== left),
      )) !== undefined ||
      (await beginsOneBeingRead(head, left))
    ) {
      // Empty (or only zero bytes so far), moved while looked at, or a copy (or .gz) of a file still
      // being read: its content arrives through the original; once that is gone or truncated, an
      // orphan match takes it.
      later.add(c);
    }
  }

  for (const c of candidates) {
    if (bound.has(c) || later.has(c)) continue;
    // The zero bytes before the content hold no line: a plain file is read from where it starts.
    const start = c.gz ? 0 : ((await headOf(c))?.at ?? 0);
    const f: TrackedFile = {
      dev: c.dev,
      ino: c.ino,
      gz: c.gz,
      head: '',
      headBytes: 0,
      headAt: start,
      offset: options.startAtEnd && !c.gz ? c.size : start,
      done: options.startAtEnd && c.gz,
      size: -1,
      mtimeMs: 0,
      path: c.path,
      seenAt: options.now,
    };
    files.push(f);
    bind(c, f);
  }

  const tasks: ReadTask[] = [];
  for (const [c, f] of bound) {
    // A head hashed from byte 0 by an older version is hashed again from where the content starts,
    // once the file is known to be the same; a head not taken yet is looked for there too.
    const rehash = f.headBytes === 0 || f.headAt === undefined;
    if (!c.gz && c.size > 0 && (rehash || f.headBytes < Math.min(HEAD_BYTES, c.size - (f.headAt ?? 0)))) {
      const head = rehash ? await headOf(c) : await headOf(c, f.headAt ?? 0);
      // Vanished, or not the content the offset belongs to: the next scan sorts it out.
      if (!head || (f.headBytes > 0 && !rehash && !sameStart(head, f))) continue;
      if (head.bytes.length > 0) {
        f.headAt = head.at;
        f.headBytes = Math.min(head.bytes.length, HEAD_BYTES);
        f.head = hashHead(head.bytes.subarray(0, f.headBytes));
      }
    }
    // Known only by its first bytes so far (started at its end, a checkpoint saved before, a copy
    // shorter than what was read): the bytes before the offset are taken now, checked as the head is.
    const window = beforeWindow(f);
    if (!c.gz && !f.before && window.bytes > 0 && c.size >= f.offset) {
      const head = await headOf(c, window.at);
      if (head && head.bytes.length >= window.bytes)
        f.before = { ...window, hash: hashHead(head.bytes.subarray(0, window.bytes)) };
    }
    Object.assign(f, { path: c.path, size: c.size, mtimeMs: c.mtimeMs });
    if (options.now - f.seenAt >= SEEN_EVERY_MS) f.seenAt = options.now;
    if (c.gz ? !f.done : c.size > f.offset) tasks.push({ candidate: c, file: f });
  }
  // Older files first, so rows from rotated files come before the live one's.
  tasks.sort(
    (a, b) => a.candidate.mtimeMs - b.candidate.mtimeMs || a.candidate.path.localeCompare(b.candidate.path),
  );
  return {
    files: files.filter((f) => claimed.has(f) || options.now - f.seenAt < FORGET_AFTER_MS),
    tasks,
    /** Candidates left for the next scan (moved while looked at, a copy or .gz in progress). */
    deferred: later.size,
  };
}
