import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^(\d{16})\.log$/;

/** Segment ids are zero-padded sequence numbers, so name order is write order. */
export function segmentName(id: number): string {
  return `${String(id).padStart(16, '0')}.log`;
}

export function segmentId(name: string): number | undefined {
  const match = SEGMENT.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Segment ids present in dir, oldest first. */
export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const ids: number[] = [];
  for (const name of names) {
    const id = segmentId(name);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

export function segmentPath(dir: string, id: number): string {
  return join(dir, segmentName(id));
}
