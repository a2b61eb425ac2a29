import { readFileSync, truncateSync } from 'node:fs';
import { scanLines } from './record.ts';

export interface RecoveryResult {
  goodRecords: number;
  truncatedBytes: number;
  corruptRecords: number;
}

/**
 * Makes a segment that a crash may have cut short safe to load: a torn tail (a last line without
 * its newline, which a write cut short leaves) is truncated. A complete line with a bad checksum or
 * framing is corruption wherever it is, the segment's end included: left in place for the loader to
 * skip and keep in the rejects, so no damaged record is lost without a trace. Undefined when the
 * segment is gone. With truncate false the torn tail stays too, for the loader: only the last
 * segment a writer had open can end in a write a crash cut short.
 */
export function recoverSegment(path: string, truncate = true): RecoveryResult | undefined {
  const data = readIfThere(path);
  if (data === undefined) return undefined;
  let completeEnd = 0;
  let goodRecords = 0;
  let corruptRecords = 0;
  for (const line of scanLines(data)) {
    if (line.check.ok) goodRecords++;
    else if (line.check.reason !== 'torn') corruptRecords++;
    else break;
    completeEnd = line.end;
  }
  const truncatedBytes = truncate ? data.length - completeEnd : 0;
  if (truncatedBytes > 0) truncateSync(path, completeEnd);
  return { goodRecords, truncatedBytes, corruptRecords };
}

/**
 * A segment's bytes, or undefined when it is gone: a loader in another process (`--role loader`)
 * loads and deletes sealed segments while a restarting collector recovers them, and one deleted
 * between the listing and the read ended the start with ENOENT.
 */
function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
