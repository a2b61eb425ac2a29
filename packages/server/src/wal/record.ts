import { crc32 } from 'node:zlib';

// A record is one line that is itself valid JSON: {"c":"<crc32 hex of body>","e":<body>}\n.
// The checksum lets recovery and the loader tell torn or corrupt lines from good ones, and the
// framing lets DuckDB read a sealed segment directly with read_json, without a copy in JavaScript.
const PREFIX = '{"c":"';
const MIDDLE = '","e":';
const SUFFIX = '}\n';
const BODY_START = PREFIX.length + 8 + MIDDLE.length;
const FRAMING = BODY_START + SUFFIX.length;
const NEWLINE = 0x0a;

/** Frames an already-serialized JSON body as one WAL line. */
export function encodeRecord(body: string): string {
  return PREFIX + (crc32(body) >>> 0).toString(16).padStart(8, '0') + MIDDLE + body + SUFFIX;
}

/**
 * Frames many JSON bodies into one buffer, encoding each body to UTF-8 exactly once: the hot path
 * for a request's events, which would otherwise be encoded for the checksum and again for the write.
 */
export function encodeRecords(bodies: readonly string[]): Buffer {
  let total = 0;
  const lengths = bodies.map((body) => {
    const length = Buffer.byteLength(body);
    total += length + FRAMING;
    return length;
  });
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  bodies.forEach((body, i) => {
    const length = lengths[i] as number;
    out.write(PREFIX, offset, 'latin1');
    out.write(body, offset + BODY_START, length, 'utf8');
    const crc = (crc32(out.subarray(offset + BODY_START, offset + BODY_START + length)) >>> 0)
      .toString(16)
      .padStart(8, '0');
    out.write(crc, offset + PREFIX.length, 'latin1');
    out.write(MIDDLE, offset + PREFIX.length + 8, 'latin1');
    out.write(SUFFIX, offset + BODY_START + length, 'latin1');
    offset += length + FRAMING;
  });
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

/**
 * The records of a segment that fail their framing or checksum (a final line without a newline is
 * 'torn'). Allocates nothing for good records: the loader runs this over every byte it loads.
 */
export function findBadRecords(data: Buffer): BadRecord[] {
  const bad: BadRecord[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(NEWLINE, start);
    if (nl === -1) {
      bad.push({ start, end: data.length, reason: 'torn' });
      break;
    }
    const reason = problem(data, start, nl);
    if (reason) bad.push({ start, end: nl + 1, reason });
    start = nl + 1;
  }
  return bad;
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
