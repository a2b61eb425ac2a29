import { isUtf8 } from 'node:buffer';

/** One complete line: its text without the line break, or only its head when it was too long. */
export interface SplitLine {
  text: string;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past its newline: where reading resumes. */
  end: number;
  /** Set when the line was longer than the limit; `text` then holds only its first bytes. */
  tooLongBytes?: number;
  /** Bytes that are not UTF-8 were in the line: `text` holds U+FFFD in their place. */
  notUtf8?: true;
}

export interface LineSplitter {
  /** Feeds the bytes that start at `offset`; returns the lines they completed. */
  push(chunk: Buffer, offset: number): SplitLine[];
  /** The last line when the input ended without a newline (a finished .gz file), or undefined. */
  finish(end: number): SplitLine | undefined;
  /** Where the line still waiting for its newline starts, or undefined when none is. */
  pendingStart(): number | undefined;
  /** The line still waiting for its newline: what is kept of it and its length so far. */
  pending(): HeldLine | undefined;
}

/** A line without its newline yet: where it starts, its first bytes (at most the limit), its length. */
export interface HeldLine {
  start: number;
  head: Buffer;
  bytes: number;
}

const NEWLINE = 0x0a;

/**
 * Splits bytes into lines without ever holding more than `maxLineBytes` of one line: a longer
 * line is kept as its head plus a byte count, so one runaway line cannot exhaust memory.
 * `held` goes on with a line an earlier splitter left waiting (pending()).
 */
export function createLineSplitter(maxLineBytes: number, held?: HeldLine): LineSplitter {
  const kept = held?.head.subarray(0, maxLineBytes);
  let carry: Buffer[] = kept ? [Buffer.from(kept)] : [];
  let carryBytes = kept?.length ?? 0;
  let carryStart = held?.start ?? 0;
  let overflow = held ? Math.max(0, held.bytes - carryBytes) : 0;

  const textOf = (buffer: Buffer, start: number, end: number): string => {
    const stop = end > start && buffer[end - 1] === 0x0d ? end - 1 : end;
    return buffer.toString('utf8', start, stop);
  };

  /** The head of a line cut at `end`: up to the last whole character, not a U+FFFD for half of one. */
  const headOf = (buffer: Buffer, start: number, end: number): string => {
    let lead = end - 1;
    while (lead > start && lead > end - 4 && ((buffer[lead] as number) & 0xc0) === 0x80) lead--;
    const byte = buffer[lead] as number;
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return buffer.toString('utf8', start, lead >= start && lead + size > end ? lead : end);
  };

  /**
   * Marks a line whose bytes were not all UTF-8 (Latin-1, binary): decoding put U+FFFD in their
   * place, which a user should hear of. Only a line holding U+FFFD is looked at again.
   */
  const checked = (line: SplitLine, bytes: Buffer): SplitLine =>
    line.text.includes('\uFFFD') && !isUtf8(bytes) ? { ...line, notUtf8: true } : line;

  const hold = (bytes: Buffer, offset: number) => {
    if (carryBytes === 0 && overflow === 0) carryStart = offset;
    const room = maxLineBytes - carryBytes;
    if (bytes.length > room) {
      if (room > 0) carry.push(Buffer.from(bytes.subarray(0, room)));
      carryBytes += Math.max(room, 0);
      overflow += bytes.length - Math.max(room, 0);
    } else {
      // Copied: the caller reuses its read buffer.
      carry.push(Buffer.from(bytes));
      carryBytes += bytes.length;
    }
  };

  const complete = (end: number): SplitLine => {
    const joined = Buffer.concat(carry, carryBytes);
    const total = carryBytes + overflow;
    // An over-long line is a reject, its head in raw, whatever its bytes.
    const line: SplitLine =
      total > maxLineBytes
        ? { text: headOf(joined, 0, joined.length), start: carryStart, end, tooLongBytes: total }
        : checked({ text: textOf(joined, 0, joined.length), start: carryStart, end }, joined);
    carry = [];
    carryBytes = 0;
    overflow = 0;
    return line;
  };

  return {
    push(chunk, offset) {
      const lines: SplitLine[] = [];
      let pos = 0;
      while (pos < chunk.length) {
        // Zero bytes before a line are no text: a writer without O_APPEND goes on at its own offset
        // in a file copytruncate emptied, and the hole up to there reads as zero bytes.
        if (carryBytes === 0 && overflow === 0) while (chunk[pos] === 0) pos++;
        if (pos === chunk.length) break;
        const nl = chunk.indexOf(NEWLINE, pos);
        if (nl === -1) {
          hold(chunk.subarray(pos), offset + pos);
          break;
        }
        if (carryBytes === 0 && overflow === 0) {
          const length = nl - pos;
          lines.push(
            length > maxLineBytes
              ? {
                  text: headOf(chunk, pos, pos + maxLineBytes),
                  start: offset + pos,
                  end: offset + nl + 1,
                  tooLongBytes: length,
                }
              : checked(
                  { text: textOf(chunk, pos, nl), start: offset + pos, end: offset + nl + 1 },
                  chunk.subarray(pos, nl),
                ),
          );
        } else {
          hold(chunk.subarray(pos, nl), offset + pos);
          lines.push(complete(offset + nl + 1));
        }
        pos = nl + 1;
      }
      return lines;
    },
    finish(end) {
      if (carryBytes === 0 && overflow === 0) return undefined;
      return complete(end);
    },
    pendingStart: () => (carryBytes === 0 && overflow === 0 ? undefined : carryStart),
    pending() {
      if (carryBytes === 0 && overflow === 0) return undefined;
      carry = [Buffer.concat(carry, carryBytes)];
      return { start: carryStart, head: carry[0] as Buffer, bytes: carryBytes + overflow };
    },
  };
}
