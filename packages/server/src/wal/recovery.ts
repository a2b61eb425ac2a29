import { readFileSync, truncateSync } from 'node:fs';
import { scanLines } from './record.ts';

export interface RecoveryResult {
  goodRecords: number;
  truncatedBytes: number;
  corruptRecords: number;
}

/**
 * Makes a segment that a crash may have cut short safe to load: a torn tail (anything after the
 * last complete record that no good record follows) is truncated; a bad record with good ones
 * after it is corruption, left in place for the loader to skip and keep in the rejects.
 */
export function recoverSegment(path: string): RecoveryResult {
  const data = readFileSync(path);
  let goodEnd = 0;
  let goodRecords = 0;
  let corruptSinceGood = 0;
  let corruptRecords = 0;
  for (const line of scanLines(data)) {
    if (line.check.ok) {
      goodRecords++;
      goodEnd = line.end;
      corruptRecords += corruptSinceGood;
      corruptSinceGood = 0;
    } else {
      corruptSinceGood++;
    }
  }
  const truncatedBytes = data.length - goodEnd;
  if (truncatedBytes > 0) truncateSync(path, goodEnd);
  return { goodRecords, truncatedBytes, corruptRecords };
}
