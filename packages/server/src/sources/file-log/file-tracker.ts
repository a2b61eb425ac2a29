import { createHash } from 'node:crypto';

/**
 * What the checkpoint remembers about one file it has read. A file is known by its inode while it
 * keeps one, and by a hash of its first bytes when its content moves to another inode: a copy
 * (copytruncate) or its .gz. Offsets count content bytes, so they stay valid inside a .gz.
 */
export interface TrackedFile {
  dev: number;
  ino: number;
  gz: boolean;
  /** Hash of the first `headBytes` bytes of content (grows to HEAD_BYTES as the file does). */
  head: string;
  headBytes: number;
  /** Content bytes consumed: everything before it is in the lake or in the rejects. */
  offset: number;
  /** A .gz read to its end: never read again while its inode holds this size. */
  done: boolean;
  /** Last size and mtime seen (compressed size for a .gz). */
  size: number;
  mtimeMs: number;
  path: string;
  seenAt: number;
}

/** A file found by the globs now. */
export interface Candidate {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
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

export interface PlanOptions {
  now: number;
  /**
   * Up to HEAD_BYTES of the candidate's content (decompressed for a .gz), or undefined when the
   * path no longer names that file (renamed or deleted since the scan listed it).
   */
  readHead(candidate: Candidate): Promise<Buffer | undefined>;
  /** No checkpoint existed and backfill is off: existing files start at their end. */
  startAtEnd: boolean;
}

/**
 * Matches the files present now against what the checkpoint knows, and says what to read:
 * 1. same inode and the same first bytes → the same file (renamed or not); a file shorter than its
 *    offset or with other first bytes was truncated (copytruncate) and starts again at 0;
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
): Promise<{ files: TrackedFile[]; tasks: ReadTask[] }> {
  const files = known.map((f) => ({ ...f }));
  const byInode = new Map(files.map((f) => [`${f.dev}:${f.ino}`, f]));
  const heads = new Map<Candidate, Buffer | undefined>();
  const headOf = async (c: Candidate) => {
    if (!heads.has(c)) heads.set(c, await options.readHead(c));
    return heads.get(c);
  };
  const sameStart = (head: Buffer, f: TrackedFile) =>
    f.headBytes > 0 && head.length >= f.headBytes && hashHead(head.subarray(0, f.headBytes)) === f.head;
  const bound = new Map<Candidate, TrackedFile>();
  const claimed = new Set<TrackedFile>();
  const later = new Set<Candidate>();
  const bind = (c: Candidate, f: TrackedFile) => {
    bound.set(c, f);
    claimed.add(f);
  };
  const detach = (f: TrackedFile) => {
    f.ino = -1;
  };

  for (const c of candidates) {
    const f = byInode.get(`${c.dev}:${c.ino}`);
    if (!f || f.gz !== c.gz || claimed.has(f)) continue;
    if (c.gz) {
      // A .gz never changes; another size under the same inode is another file.
      if (f.size === c.size) bind(c, f);
      else detach(f);
      continue;
    }
    // Not taken as unchanged for the same size and mtime without looking: mtime comes from a coarse
    // clock (a jiffy), so a copytruncate refilled to the same size within one tick looked unchanged,
    // and its new lines waited for the next write. Reading up to HEAD_BYTES a scan costs little.
    if (c.size < f.offset) {
      detach(f);
      continue;
    }
    const head = f.headBytes > 0 ? await headOf(c) : Buffer.alloc(0);
    if (!head) {
      // Moved while looked at: keep what is known as it is, and look again next scan.
      claimed.add(f);
      later.add(c);
    } else if (f.headBytes > 0 && !sameStart(head, f)) detach(f);
    else bind(c, f);
  }

  const orphans = files.filter((f) => !claimed.has(f) && !f.done && f.headBytes > 0);
  const reading = [...bound.keys()].filter((c) => !c.gz);
  const beginsOneBeingRead = async (head: Buffer) => {
    for (const other of reading) {
      const theirs = await headOf(other);
      const n = Math.min(head.length, theirs?.length ?? 0);
      if (n > 0 && head.subarray(0, n).equals(theirs?.subarray(0, n) ?? Buffer.alloc(0))) return true;
    }
    return false;
  };
  for (const c of candidates) {
    if (bound.has(c) || later.has(c)) continue;
    const head = c.size === 0 ? undefined : await headOf(c);
    if (!head || head.length === 0) {
      later.add(c);
      continue;
    }
    const i = orphans.findIndex((f) => sameStart(head, f));
    if (i !== -1) {
      const f = orphans.splice(i, 1)[0] as TrackedFile;
      // A copy can be shorter than what was read from the original: all of it was read then.
      const offset = c.gz ? f.offset : Math.min(f.offset, c.size);
      Object.assign(f, { dev: c.dev, ino: c.ino, gz: c.gz, done: false, offset });
      bind(c, f);
    } else if (files.some((f) => claimed.has(f) && sameStart(head, f)) || (await beginsOneBeingRead(head))) {
      // A copy (or .gz) of a file still being read, or one that moved while looked at: its content
      // arrives through the original; once that is gone or truncated, an orphan match takes it.
      later.add(c);
    }
  }

  for (const c of candidates) {
    if (bound.has(c) || later.has(c)) continue;
    const f: TrackedFile = {
      dev: c.dev,
      ino: c.ino,
      gz: c.gz,
      head: '',
      headBytes: 0,
      offset: options.startAtEnd && !c.gz ? c.size : 0,
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
    if (!c.gz && f.headBytes < Math.min(HEAD_BYTES, c.size)) {
      const head = await headOf(c);
      // Vanished, or not the content the offset belongs to: the next scan sorts it out.
      if (!head || (f.headBytes > 0 && !sameStart(head, f))) continue;
      f.headBytes = Math.min(head.length, HEAD_BYTES);
      f.head = hashHead(head.subarray(0, f.headBytes));
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
  };
}
