import { crc32 } from 'node:zlib';

// A record is one line that is itself valid JSON: {"c":"<crc32 hex of body>","e":<body>}\n.
// The checksum lets recovery and the loader tell torn or corrupt lines from good ones, and the
// framing lets DuckDB read a sealed segment directly with read_json, without a copy in JavaScript.
const PREFIX = '{"c":"';
const MIDDLE = '","e":';
const SUFFIX = '}\n';
const BODY_START = PREFIX.length + 8 + MIDDLE.length;
const NEWLINE = 0x0a;

/** Frames an already-serialized JSON body as one WAL line. */
export function encodeRecord(body: string): string {
  return PREFIX + (crc32(body) >>> 0).toString(16).padStart(8, '0') + MIDDLE + body + SUFFIX;
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
