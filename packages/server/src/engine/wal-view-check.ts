import { open, stat } from 'node:fs/promises';
import { checksumAsRead, listSegments, segmentPath, verifySegmentFile } from '../wal/index.ts';

/** A WAL segment as the events view reads it, and the checksums of its bad records to leave out. */
export interface WalViewFile {
  path: string;
  leaveOut: string[];
}

/**
 * Bad records one segment may have for the view to leave them out one by one: each is a literal in
 * the view's SQL. A segment with more (or with one whose checksum DuckDB reads cannot be told) is
 * left out of the view whole, until the loader has put its good records in the lake.
 */
export const MAX_LEFT_OUT = 1000;

interface Checked {
  /** The file's identity: a segment written anew under its name may reuse the inode. */
  dev: number;
  ino: number;
  birthtimeMs: number;
  /** Where the lines verified so far end: a line starts there. */
  end: number;
  good: number;
  leaveOut: string[];
  unknown: boolean;
}

async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

const gone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Verifies the checksums of the WAL segments the events view reads, so that a record corrupted on
 * disk that is still JSON (a digit or a letter changed) is never in a query's results, as the loader
 * never puts it in the lake. Each byte is verified once per process: a sealed segment when first
 * seen, the open one from where the last check ended as it grows (the file's identity and size tell
 * a segment written again or cut back, which is verified anew). Bytes appended after a check, which
 * a query may read too, are the writer's own of that moment; a sealed segment's torn tail is left
 * out as the loader leaves it out, the open segment's is a write under way.
 */
export function createWalViewCheck(dir: string) {
  const checked = new Map<string, Checked>();
  let queue: Promise<unknown> = Promise.resolve();

  const verify = async (path: string, entry: Checked) => {
    const { lines, bad, end } = await verifySegmentFile(path, { from: entry.end });
    const complete = bad.filter((r) => r.reason !== 'torn');
    for (const record of complete) {
      const checksum = checksumAsRead(await readRange(path, record.start, record.end - 1));
      if (checksum === undefined) entry.unknown = true;
      else if (checksum !== null) entry.leaveOut.push(checksum);
    }
    entry.good += lines - complete.length;
    entry.end = end;
  };

  const files = async (skip: (path: string) => boolean): Promise<WalViewFile[]> => {
    const segments = listSegments(dir);
    const open = segments.at(-1);
    const listed = new Set<string>();
    const out: WalViewFile[] = [];
    for (const segment of segments) {
      const path = segmentPath(dir, segment);
      if (skip(path)) continue;
      listed.add(path);
      try {
        const stats = await stat(path);
        // A folder under a segment's name (made by hand) holds no records: reading it failed every
        // query with a bare EISDIR (inlet query; inlet start refuses such a data_dir by name).
        if (!stats.isFile()) continue;
        const { dev, ino, birthtimeMs, size } = stats;
        let entry = checked.get(path);
        const same = entry?.dev === dev && entry.ino === ino && entry.birthtimeMs === birthtimeMs;
        if (!entry || !same || size < entry.end) {
          entry = { dev, ino, birthtimeMs, end: 0, good: 0, leaveOut: [], unknown: false };
          checked.set(path, entry);
        }
        if (size > entry.end) await verify(path, entry);
        const leaveOut = [...entry.leaveOut];
        let unknown = entry.unknown;
        if (segment !== open && size > entry.end) {
          // A sealed segment's last line without its newline, which DuckDB would read if it is whole.
          const tail = checksumAsRead(await readRange(path, entry.end, size));
          if (tail === undefined) unknown = true;
          else if (tail !== null) leaveOut.push(tail);
        }
        if (unknown || entry.good === 0 || leaveOut.length > MAX_LEFT_OUT) continue;
        out.push({ path, leaveOut });
      } catch (error) {
        // Loaded and deleted since the listing: its rows are in the lake.
        if (!gone(error)) throw error;
        checked.delete(path);
      }
    }
    for (const path of checked.keys()) if (!listed.has(path)) checked.delete(path);
    return out;
  };

  return {
    /** The segments the view may read now (skip: those it must not), each with what to leave out. */
    files(skip: (path: string) => boolean = () => false): Promise<WalViewFile[]> {
      // One check at a time: two queries planned together would verify the same bytes twice over.
      const result = queue.then(() => files(skip));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}

export type WalViewCheck = ReturnType<typeof createWalViewCheck>;
