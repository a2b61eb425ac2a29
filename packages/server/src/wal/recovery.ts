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
 * skip and keep in the rejects, so no damaged record is lost without a trace.
 */
export function recoverSegment(path: string): RecoveryResult {
  const data = readFileSync(path);
  let completeEnd = 0;
  let goodRecords = 0;
  let corruptRecords = 0;
  for (const line of scanLines(data)) {
    if (line.check.ok) goodRecords++;
    else if (line.check.reason !== 'torn') corruptRecords++;
    else break;
    completeEnd = line.end;
  }
  const truncatedBytes = data.length - completeEnd;
  if (truncatedBytes > 0) truncateSync(path, completeEnd);
  return { goodRecords, truncatedBytes, corruptRecords };
}
