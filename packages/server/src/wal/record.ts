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

/** Checks one line (without its newline): framing and checksum. */
export function checkLine(line: Buffer): LineCheck {
  if (line.length < BODY_START + 2) return { ok: false, reason: 'record too short' };
  if (
    line.toString('latin1', 0, PREFIX.length) !== PREFIX ||
    line.toString('latin1', PREFIX.length + 8, BODY_START) !== MIDDLE
  ) {
    return { ok: false, reason: 'bad record framing' };
  }
  if (line[line.length - 1] !== 0x7d) return { ok: false, reason: 'record not terminated' };
  const body = line.subarray(BODY_START, line.length - 1);
  const expected = Number.parseInt(line.toString('latin1', PREFIX.length, PREFIX.length + 8), 16);
  if (Number.isNaN(expected) || crc32(body) >>> 0 !== expected)
    return { ok: false, reason: 'checksum mismatch' };
  return { ok: true, body };
}

export interface ScannedLine {
  start: number;
  end: number;
  check: LineCheck;
}

/** Splits a segment's bytes into lines; a final line without a newline is reported with reason 'torn'. */
export function* scanLines(data: Buffer): Generator<ScannedLine> {
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(NEWLINE, start);
    if (nl === -1) {
      yield { start, end: data.length, check: { ok: false, reason: 'torn' } };
      return;
    }
    yield { start, end: nl + 1, check: checkLine(data.subarray(start, nl)) };
    start = nl + 1;
  }
}
