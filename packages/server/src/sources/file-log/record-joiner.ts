import type { SplitLine } from './line-splitter.ts';
import type { FirstLineTest } from './multiline-parsers.ts';

/** One multi-line record: its lines joined with "\n", and the bytes of the file it covers. */
export interface JoinedRecord {
  text: string;
  /** Byte offset of its first line. */
  start: number;
  /** Byte offset just past its last line consumed (dropped lines included). */
  end: number;
  /** Cut at max_lines or max_bytes: its further lines, up to the next first line, are dropped. */
  truncated: boolean;
  /** Set when its first line alone was longer than max_bytes; `text` then holds only its head. */
  tooLongBytes?: number;
}

export interface RecordJoiner {
  /** Takes the next line; returns the records it completed (cut off, or ended by a new first line). */
  push(line: SplitLine): JoinedRecord[];
  /** Ends the record being gathered (the file is idle, finished or rotated away), if any. */
  finish(): JoinedRecord | undefined;
  /** The record being gathered as finish() would end it, left gathering lines. */
  pending(): JoinedRecord | undefined;
  /** Where the record being gathered starts: a restart must read again from there. */
  pendingStart(): number | undefined;
  /** Whether the lines now read belong to a record already cut off (and are dropped). */
  skipping(): boolean;
}

export interface JoinOptions {
  /** Whether a line is a record's first line; any other line belongs to the record before it. */
  isFirst: FirstLineTest;
  maxLines: number;
  maxBytes: number;
  /** The reader stopped inside a record that was cut off: its further lines are still dropped. */
  skipping?: boolean;
}

/**
 * Gathers lines into records as Filebeat's `multiline` (negate: true, match: after) does: a line
 * that is not a first line is joined to the record before it. A record over `maxLines` lines or
 * `maxBytes` bytes is returned at once, cut, so that a `start` that never matches can neither
 * exhaust memory nor hold the checkpoint back for good.
 */
export function createRecordJoiner(options: JoinOptions): RecordJoiner {
  const { isFirst, maxLines, maxBytes } = options;
  let skip = options.skipping ?? false;
  let pending: { lines: string[]; bytes: number; start: number; end: number } | undefined;

  const peek = (truncated: boolean): JoinedRecord | undefined => {
    if (!pending) return undefined;
    // Blank lines between a record and the next one's first line belong to neither.
    let n = pending.lines.length;
    while (n > 1 && pending.lines[n - 1] === '') n--;
    const record = {
      text: pending.lines.slice(0, n).join('\n'),
      start: pending.start,
      end: pending.end,
      truncated,
    };
    return record;
  };
  const take = (truncated: boolean): JoinedRecord | undefined => {
    const record = peek(truncated);
    pending = undefined;
    return record;
  };

  return {
    push(line) {
      const bytes = Buffer.byteLength(line.text);
      const tooLong = line.tooLongBytes !== undefined;
      const refused = (): JoinedRecord => {
        // A first line too long on its own: returned to be refused, and its record's lines dropped.
        skip = true;
        return {
          text: line.text,
          start: line.start,
          end: line.end,
          truncated: true,
          tooLongBytes: line.tooLongBytes,
        };
      };
      if (isFirst(line.text)) {
        skip = false;
        const done = take(false);
        if (tooLong) return done ? [done, refused()] : [refused()];
        pending = { lines: [line.text], bytes, start: line.start, end: line.end };
        return done ? [done] : [];
      }
      if (skip) return [];
      if (!pending) {
        if (tooLong) return [refused()];
        // Lines before any first line (the file starts inside a record): a record of their own.
        if (line.text === '') return [];
        pending = { lines: [line.text], bytes, start: line.start, end: line.end };
        return [];
      }
      if (tooLong || pending.lines.length >= maxLines || pending.bytes + 1 + bytes > maxBytes) {
        pending.end = line.end;
        skip = true;
        const cut = take(true);
        return cut ? [cut] : [];
      }
      pending.lines.push(line.text);
      pending.bytes += 1 + bytes;
      pending.end = line.end;
      return [];
    },
    finish: () => take(false),
    pending: () => peek(false),
    pendingStart: () => pending?.start,
    skipping: () => skip,
  };
}
