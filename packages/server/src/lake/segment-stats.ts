import type { BodyVisitor } from '../wal/index.ts';

/** What the loader must know about a segment before copying it: how much dedup work it needs, and where. */
export interface SegmentStats {
  rows: number;
  distinctIds: number;
  /** received_at of the first record: records are appended in arrival order. */
  firstReceived: string;
  /** The dt partitions the segment's events fall into. */
  dts: string[];
  /** Sorted 52-bit hashes of the distinct event ids; absent when DuckDB gathered the stats. */
  idHashes?: Float64Array;
}

// An event record body as the collector serializes it (events/record-json.ts): event_id is its
// first key and dt its last, so both sit at fixed places and are read without parsing the JSON.
const ID_PREFIX = Buffer.from('{"event_id":"', 'latin1');
const DT_PREFIX = Buffer.from(',"dt":"', 'latin1');
const RECEIVED_PREFIX = Buffer.from('"received_at":"', 'latin1');
const DT_TAIL = DT_PREFIX.length + 10 + 2;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Counts distinct byte strings by a 52-bit hash in an open-addressing table: a Set of strings costs a
 * microsecond a record here. Two different ids sharing a hash (about one chance in 10^6 for a full
 * segment) only make the loader run its exact dedup when it was not needed.
 */
function createIdCounter() {
  let table = new Float64Array(1 << 17);
  let shift = 32 - 17;
  let size = 0;
  // The slot is the top bits of the hash's two halves mixed and times the golden ratio (Fibonacci
  // hashing): integer operations, where hash % table.length was a floating-point remainder (fmod).
  const insert = (hash: number) => {
    const mask = table.length - 1;
    let slot = Math.imul((hash >>> 0) ^ (hash / 0x100000000), 0x9e3779b1) >>> shift;
    for (let at = table[slot] as number; at !== 0; at = table[slot] as number) {
      if (at === hash) return;
      slot = (slot + 1) & mask;
    }
    table[slot] = hash;
    size++;
  };
  return {
    add(data: Buffer, start: number, end: number) {
      let a = 0x811c9dc5;
      let b = 0x5bd1e995;
      for (let i = start; i < end; i++) {
        const c = data[i] as number;
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995);
      }
      // + 1 keeps 0 free to mark an empty slot.
      insert((a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff) + 1);
      if (size * 2 > table.length) {
        const old = table;
        table = new Float64Array(old.length * 2);
        shift--;
        size = 0;
        for (let i = 0; i < old.length; i++) if (old[i] !== 0) insert(old[i] as number);
      }
    },
    size: () => size,
    /** The distinct hashes, sorted: the segment's id filter (see id-filter.ts). */
    sorted(): Float64Array {
      const out = new Float64Array(size);
      let at = 0;
      for (let i = 0; i < table.length; i++) if (table[i] !== 0) out[at++] = table[i] as number;
      return out.sort();
    },
  };
}

function matches(data: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * Gathers SegmentStats while the loader verifies a segment's checksums, so the segment is read by
 * DuckDB once (the copy) instead of twice. A body it cannot read this way (an event id with escapes,
 * a record from an older layout) makes result() undefined, and the loader asks DuckDB instead.
 */
export function createSegmentStats(): { visit: BodyVisitor; result(): SegmentStats | undefined } {
  const ids = createIdCounter();
  const dts = new Set<string>();
  let lastDt = Buffer.from('not a date', 'latin1');
  let firstReceived: string | undefined;
  let rows = 0;
  let readable = true;

  const visit: BodyVisitor = (data, start, end) => {
    rows++;
    if (!readable) return;
    const idStart = start + ID_PREFIX.length;
    const dtStart = end - DT_TAIL;
    // Byte loops rather than indexOf/compare: ids and dates are short, and native calls cost more here.
    let idEnd = idStart;
    while (idEnd < dtStart && data[idEnd] !== QUOTE) idEnd++;
    if (
      idEnd >= dtStart ||
      data[idEnd - 1] === BACKSLASH ||
      !matches(data, start, ID_PREFIX) ||
      !matches(data, dtStart, DT_PREFIX)
    ) {
      readable = false;
      return;
    }
    ids.add(data, idStart, idEnd);
    const dateStart = dtStart + DT_PREFIX.length;
    if (!matches(data, dateStart, lastDt)) {
      lastDt = Buffer.from(data.subarray(dateStart, dateStart + 10));
      dts.add(lastDt.toString('latin1'));
    }
    if (firstReceived === undefined) {
      const at = data.indexOf(RECEIVED_PREFIX, idEnd);
      if (at === -1 || at >= end) readable = false;
      else
        firstReceived = data.toString(
          'latin1',
          at + RECEIVED_PREFIX.length,
          at + RECEIVED_PREFIX.length + 24,
        );
    }
  };

  return {
    visit,
    result() {
      if (!readable || rows === 0 || firstReceived === undefined) return undefined;
      return { rows, distinctIds: ids.size(), firstReceived, dts: [...dts], idHashes: ids.sorted() };
    },
  };
}
