import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

// A record is one line that is itself valid JSON: {"c":"<crc32 hex of body>","e":<body>}\n.
// The checksum lets recovery and the loader tell torn or corrupt lines from good ones, and the
// framing lets DuckDB read a sealed segment directly with read_json, without a copy in JavaScript.
const PREFIX = '{"c":"';
const MIDDLE = '","e":';
const SUFFIX = '}\n';
const BODY_START = PREFIX.length + 8 + MIDDLE.length;
const NEWLINE = 0x0a;

// DuckDB's JSON reader refuses a string with a lone surrogate ("\ud800" with no low half after it),
// and a record it cannot read stops the loader at its segment. JSON.parse accepts one in any
// client's body, and JSON.stringify writes it back as that escape (a valid pair it writes as the
// character itself). So a record's lone surrogates become U+FFFD, as a UTF-8 decoder does with
// bytes it cannot read. An escape counts only after an odd run of backslashes: "\\ud800" is text.
const SURROGATE_ESCAPE = /(\\+)u[dD][89a-fA-F][0-9a-fA-F]{2}/g;
const SURROGATE_ESCAPE_BYTES = Buffer.from('\\ud', 'latin1');

/** JSON text with every lone-surrogate escape written as \ufffd (see above). */
export function withoutLoneSurrogates(json: string): string {
  return json.replace(SURROGATE_ESCAPE, (match: string, slashes: string) =>
    slashes.length % 2 === 1 ? `${slashes}ufffd` : match,
  );
}

/** Frames an already-serialized JSON body as one WAL line. */
export function encodeRecord(json: string): string {
  const body = json.includes('\\ud') ? withoutLoneSurrogates(json) : json;
  return PREFIX + (crc32(body) >>> 0).toString(16).padStart(8, '0') + MIDDLE + body + SUFFIX;
}

// Lower-case hex digits of every byte value, two per byte, for writing checksums into a buffer.
const HEX = Buffer.from(
  Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''),
  'latin1',
);

/**
 * Requests' records are carved out of shared 4 MiB slabs, as Node's Buffer pool does for buffers
 * under 4 KiB: a fresh ArrayBuffer for each request's ~100 KB (Buffer.from) cost more than the rest of
 * encoding (allocating and accounting external memory, and the garbage collections that brings:
 * 2.3 µs an event of 100-event batches, against 0.5 µs to write the text into a slab). A slab is
 * freed once the WAL has written every request's records in it; text larger than a quarter of a
 * slab gets a buffer of its own.
 */
const SLAB_BYTES = 4 * 2 ** 20;
let slab = Buffer.alloc(0);
let slabUsed = 0;

/** The UTF-8 bytes of text, in the current slab where they fit. */
function fromSlab(text: string): Buffer {
  // A UTF-16 unit takes at most 3 bytes in UTF-8; the exact count is worked out only near the limit.
  const most = text.length * 3 > SLAB_BYTES / 4 ? Buffer.byteLength(text) : text.length * 3;
  if (most > SLAB_BYTES / 4) return Buffer.from(text, 'utf8');
  if (slabUsed + most > slab.length) {
    slab = Buffer.allocUnsafe(SLAB_BYTES);
    slabUsed = 0;
  }
  const start = slabUsed;
  const written = slab.write(text, start, 'utf8');
  // The next request's records start 8-byte aligned, as the pool's do.
  slabUsed = (start + written + 7) & ~7;
  return slab.subarray(start, start + written);
}

/**
 * Frames many JSON bodies into one buffer: the hot path for a request's events. The records are
 * joined as one string with placeholder checksums and encoded to UTF-8 once (one native call, where
 * encoding each body apart cost more than the checksums), then each line's checksum is written in
 * place. A JSON body never holds a raw newline, so the lines are the records.
 */
export function encodeRecords(bodies: readonly string[]): Buffer {
  let text = '';
  for (const body of bodies) text += `${PREFIX}00000000${MIDDLE}${body}${SUFFIX}`;
  let out = fromSlab(text);
  // One scan of the bytes for a surrogate escape; a request's records rarely hold one (JSON.stringify,
  // which wrote them, writes the escape in lower case).
  if (out.includes(SURROGATE_ESCAPE_BYTES)) out = fromSlab(withoutLoneSurrogates(text));
  let records = 0;
  let start = 0;
  for (let nl = out.indexOf(NEWLINE); nl !== -1; nl = out.indexOf(NEWLINE, start)) {
    const crc = crc32(out.subarray(start + BODY_START, nl - 1)) >>> 0;
    for (let i = 0, at = start + PREFIX.length; i < 4; i++, at += 2) {
      const digits = ((crc >>> (24 - 8 * i)) & 0xff) * 2;
      out[at] = HEX[digits] as number;
      out[at + 1] = HEX[digits + 1] as number;
    }
    records++;
    start = nl + 1;
  }
  if (records !== bodies.length) throw new Error('a WAL record body must be JSON on one line');
  return out;
}

export type LineCheck = { ok: true; body: Buffer } | { ok: false; reason: string };

const PREFIX_BYTES = Buffer.from(PREFIX, 'latin1');
const MIDDLE_BYTES = Buffer.from(MIDDLE, 'latin1');

/** The value of 8 lower-case hex digits at offset, or -1; byte arithmetic, as this runs once per record. */
function hex8(data: Buffer, offset: number): number {
  let value = 0;
  for (let i = offset; i < offset + 8; i++) {
    const c = data[i] as number;
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

function framed(data: Buffer, start: number): boolean {
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (data[start + i] !== PREFIX_BYTES[i]) return false;
  const middle = start + PREFIX.length + 8;
  for (let i = 0; i < MIDDLE_BYTES.length; i++) if (data[middle + i] !== MIDDLE_BYTES[i]) return false;
  return true;
}

/** Why the record in data[start, end) (without its newline) is bad, or undefined when it is good. */
function problem(data: Buffer, start: number, end: number): string | undefined {
  if (end - start < BODY_START + 2) return 'record too short';
  if (!framed(data, start)) return 'bad record framing';
  if (data[end - 1] !== 0x7d) return 'record not terminated';
  const expected = hex8(data, start + PREFIX.length);
  if (expected < 0 || crc32(data.subarray(start + BODY_START, end - 1)) >>> 0 !== expected)
    return 'checksum mismatch';
  return undefined;
}

function checkRange(data: Buffer, start: number, end: number): LineCheck {
  const reason = problem(data, start, end);
  return reason ? { ok: false, reason } : { ok: true, body: data.subarray(start + BODY_START, end - 1) };
}

export interface BadRecord {
  /** Byte range of the line, newline included. */
  start: number;
  end: number;
  reason: string;
}

/** Called with each good record's body, data[start, end), while a segment is verified. */
export type BodyVisitor = (data: Buffer, start: number, end: number) => void;

/**
 * Checks the complete lines of data, reporting bad ones with offsets shifted by base; returns where
 * the first incomplete line starts. Allocates nothing for good records.
 */
function checkLines(
  data: Buffer,
  base: number,
  bad: BadRecord[],
  visit?: BodyVisitor,
): { next: number; lines: number } {
  let start = 0;
  let lines = 0;
  for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
    const reason = problem(data, start, nl);
    if (reason) bad.push({ start: base + start, end: base + nl + 1, reason });
    else visit?.(data, start + BODY_START, nl - 1);
    lines++;
    start = nl + 1;
  }
  return { next: start, lines };
}

/** The records of a segment in memory that fail their framing or checksum (a final line without a newline is 'torn'). */
export function findBadRecords(data: Buffer): BadRecord[] {
  const bad: BadRecord[] = [];
  const { next } = checkLines(data, 0, bad);
  if (next < data.length) bad.push({ start: next, end: data.length, reason: 'torn' });
  return bad;
}

/**
 * Verifies a segment file a megabyte at a time, so the loader never holds a whole segment in
 * memory and, awaiting each read, never holds the event loop for more than a chunk's checks (the
 * collector may share the thread): the complete lines it holds and the bad records among them (a
 * torn last line included), and where its complete lines end. visit sees every good record's body
 * on the way, so a caller can gather what it needs in the same pass. from, the start of a line,
 * verifies only what follows it (what was appended since an earlier check ended there).
 */
export async function verifySegmentFile(
  path: string,
  options: { chunkBytes?: number; visit?: BodyVisitor; from?: number } = {},
): Promise<{ lines: number; bad: BadRecord[]; end: number }> {
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  const file = await open(path, 'r');
  const bad: BadRecord[] = [];
  let lines = 0;
  let buffer = Buffer.allocUnsafe(chunkBytes);
  // Bytes of an incomplete last line, kept at the front of the buffer for the next read to complete.
  let carry = 0;
  let base = options.from ?? 0;
  try {
    for (;;) {
      if (carry === buffer.length) {
        // One record longer than the buffer: grow it rather than split the record.
        const grown = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(grown, 0, 0, carry);
        buffer = grown;
      }
      const { bytesRead } = await file.read(buffer, carry, buffer.length - carry, base + carry);
      if (bytesRead === 0) break;
      const filled = carry + bytesRead;
      const checked = checkLines(buffer.subarray(0, filled), base, bad, options.visit);
      lines += checked.lines;
      buffer.copyWithin(0, checked.next, filled);
      carry = filled - checked.next;
      base += checked.next;
    }
  } finally {
    await file.close();
  }
  if (carry > 0) bad.push({ start: base, end: base + carry, reason: 'torn' });
  return { lines, bad, end: base };
}

/**
 * The checksum DuckDB's read_json finds in a bad line (the framing's, at its fixed place); null
 * when it finds none (a line with no "c" key, which the events view leaves out as no record), and
 * undefined when this cannot tell: DuckDB's reader takes more than JSON.parse (trailing commas,
 * NaN), and the first of two keys of a name where JSON.parse takes the last.
 */
export function checksumAsRead(line: Buffer): string | null | undefined {
  if (line.length >= PREFIX.length + 9 && line.subarray(0, PREFIX.length).equals(PREFIX_BYTES)) {
    const checksum = line.subarray(PREFIX.length, PREFIX.length + 8);
    if (line[PREFIX.length + 8] === 0x22 && !checksum.includes(0x22) && !checksum.includes(0x5c))
      return checksum.toString('latin1');
  }
  return line.includes('"c"') || line.includes('\\u') ? undefined : null;
}

/** Checks one line (without its newline): framing and checksum. */
export function checkLine(line: Buffer): LineCheck {
  return checkRange(line, 0, line.length);
}

export interface ScannedLine {
  start: number;
  end: number;
  check: LineCheck;
}

/** Splits a segment's bytes into lines; a final line without a newline is reported with reason 'torn'. */
export function scanLines(data: Buffer): ScannedLine[] {
  const lines: ScannedLine[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(NEWLINE, start);
    if (nl === -1) {
      lines.push({ start, end: data.length, check: { ok: false, reason: 'torn' } });
      break;
    }
    lines.push({ start, end: nl + 1, check: checkRange(data, start, nl) });
    start = nl + 1;
  }
  return lines;
}
