import type { EventRecord } from './index.ts';

/**
 * Bytes an event's record may hold beyond limits.event_bytes for what inlet adds to every event: its
 * id, times, site, the user agent's browser, OS and device, the visitor hash.
 */
export const RECORD_ADDED_BYTES = 2048;

/**
 * Bytes an event's record may hold beyond that for the columns inlet copies out of the event (url,
 * path, referrer, title, utm_*), which the event holds already, in properties or context.page: a
 * page's location of up to some 5,000 characters, counted as url, path and referrer.
 */
export const RECORD_COPIED_BYTES = 16384;

const COPIED: ReadonlyArray<keyof EventRecord> = [
  'url',
  'path',
  'referrer',
  'title',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
];

/**
 * Whether an event is larger than eventBytes, given its record and the record's JSON text: the record
 * less what inlet adds and the columns it copies out of the event, so the event is measured as its
 * client sent it (a Segment message of 30 KB with a long page URL was refused as over 32 KB). The
 * common case, a record within the limit, reads no column.
 */
export function eventTooLarge(record: EventRecord, json: string, eventBytes: number): boolean {
  if (json.length <= eventBytes / 3) return false;
  const over = Buffer.byteLength(json) - eventBytes - RECORD_ADDED_BYTES;
  if (over <= 0) return false;
  let copied = 0;
  for (const column of COPIED) {
    const value = record[column];
    if (typeof value === 'string') copied += Buffer.byteLength(value);
  }
  return over > Math.min(copied, RECORD_COPIED_BYTES);
}
