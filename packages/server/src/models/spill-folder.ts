import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What the folders are called: inlet-spill-<pid>-s<start>-<random>, so a left-over one tells whose it
 * was; <start> (when that process started, in ms) tells an earlier process of this pid from this one
 * (inlet-spill-<pid>-<random>, of an inlet before it, tells only the pid).
 */
const PREFIX = 'inlet-spill-';
const OWNED = /^inlet-spill-(\d{1,9})-(?:s(\d{1,15})-)?[^/]+$/;
/** When this process started. */
const STARTED_AT = Math.round(Date.now() - process.uptime() * 1000);

/** A folder a read-only engine's DuckDB spills to, and how to remove it when the engine closes. */
export interface SpillFolder {
  path: string;
  remove(): void;
}

/**
 * A folder of its own under the system's temporary folder (os.tmpdir(): TMPDIR, else /tmp), for a
 * DuckDB that must write nothing in data_dir (the catalog's): with no folder at all, counting a merge
 * table's rows, whose view keeps each key's latest version over every row, ran out of
 * models.memory_limit where it had spilled. Made private (0700), as spilled rows are the lake's data,
 * and named by this process, so the folders of processes that ended without closing their engine
 * (killed, a crash) are removed here. Undefined when none can be made there: the engine then spills
 * nowhere, and only what needs more than its memory fails, as before.
 */
export function openSpillFolder(): SpillFolder | undefined {
  const parent = tmpdir();
  removeLeftOvers(parent);
  let path: string;
  try {
    path = mkdtempSync(join(parent, `${PREFIX}${process.pid}-s${STARTED_AT}-`));
  } catch {
    return undefined;
  }
  return {
    path,
    remove() {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // Moved or made unwritable meanwhile: the next open removes it once this process is gone.
      }
    },
  };
}

/**
 * Removes the spill folders of processes no longer running, and those an earlier process of this
 * process's pid left: a container's inlet has the same pid (1) at each start, so the folder of one
 * killed while it spilled (out of memory, the likeliest time) was taken for this one's and kept for
 * good, one more at each such kill. Another user's are left (EPERM, EACCES).
 */
function removeLeftOvers(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const [, pid, started] = OWNED.exec(name) ?? [];
    if (pid === undefined) continue;
    const earlierOfMine =
      Number(pid) === process.pid && started !== undefined && Number(started) !== STARTED_AT;
    if (!earlierOfMine && running(Number(pid))) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
    } catch {
      // Not ours to remove; its owner's next catalog does.
    }
  }
}

/** Whether a process with this id runs (one of another user's too, which signal 0 may not reach). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
