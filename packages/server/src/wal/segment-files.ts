import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^(\d{16})\.log$/;

/** Segment ids are zero-padded sequence numbers, so name order is write order. */
export function segmentName(id: number): string {
  return `${String(id).padStart(16, '0')}.log`;
}

/**
 * The id a segment's name gives, undefined for a name that is no segment's. Sixteen digits can name
 * more than a number holds exactly: 9999999999999999.log read as 1e16, its path as
 * 10000000000000000.log, and the writer's next segments got that name of 17 digits, which no
 * listing found, so their events were never loaded.
 */
export function segmentId(name: string): number | undefined {
  const match = SEGMENT.exec(name);
  const id = match ? Number(match[1]) : undefined;
  return id !== undefined && Number.isSafeInteger(id) ? id : undefined;
}

/** The names in dir; none when it cannot be listed (not made yet, or deleted while inlet runs). */
function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Names in dir that end in .log but are no segment's, so the WAL neither reads nor loads them. */
export function straySegments(dir: string): string[] {
  return namesIn(dir)
    .filter((name) => name.endsWith('.log') && segmentId(name) === undefined)
    .sort();
}

/** Segment ids present in dir, oldest first. */
export function listSegments(dir: string): number[] {
  const ids: number[] = [];
  for (const name of namesIn(dir)) {
    const id = segmentId(name);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

export function segmentPath(dir: string, id: number): string {
  return join(dir, segmentName(id));
}
