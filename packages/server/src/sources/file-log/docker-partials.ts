import type { SplitLine } from './line-splitter.ts';

/** A Docker json-file record: the line a container wrote (or a part of it) in `log`. */
type DockerRecord = { log: string } & Record<string, unknown>;
/** A Docker record with the stream it was written to: each stream's split lines are joined apart. */
type StreamRecord = DockerRecord & { stream: string };

/**
 * The Docker json-file record a line holds when its `log` is a part of a longer line: Docker's
 * json-file driver writes a line over 16 KiB as several records, all but the last without the
 * line break. Looked for cheaply first: a whole line's record has `\n",` after its log. Only with
 * Docker's `stream` and `time`: a `{"log":"…"}` of Fluent Bit's tail, whose lines never end in a
 * line break, would otherwise be joined line after line.
 */
export function dockerPart(text: string): StreamRecord | undefined {
  if (text.includes('\\n","')) return undefined;
  const record = dockerRecord(text);
  return record && !record.log.endsWith('\n') ? dockerStream(record) : undefined;
}

/** The record with Docker's `stream` and `time`, as Docker's json-file driver writes each. */
function dockerStream(record: DockerRecord): StreamRecord | undefined {
  return typeof record.stream === 'string' && typeof record.time === 'string'
    ? (record as StreamRecord)
    : undefined;
}

export interface DockerPartJoiner {
  /** Takes the next line; returns the lines it completes: a split line once whole, any other line at once. */
  push(line: SplitLine): SplitLine[];
  /** The lines held (no more can come: the file is finished), each split line's parts so far as one line. */
  finish(): SplitLine[];
  /** Where the first line held starts: a restart must read again from there. */
  pendingStart(): number | undefined;
  /** What a read again from pendingStart() must skip, or undefined when no line is held. */
  held(): DockerSplitsHeld | undefined;
}

/**
 * The split lines still awaiting parts, by stream, with where each starts, and how far the file was
 * read: the other lines read before `readTo` were written already, and a read again from the first
 * split line's start skips them.
 */
export interface DockerSplitsHeld {
  readTo: number;
  open: Record<string, number>;
}

interface PartQueueOptions<Item> {
  /** The record of an item that begins a split line (log without the line break), looked for cheaply. */
  part(item: Item): StreamRecord | undefined;
  /** The Docker record of an item; any other item ends the split lines before it, unended. */
  record(item: Item): StreamRecord | undefined;
  /** What a split line's items become: joined once its last part came (`ended`), or left unended. */
  join(items: Item[], records: StreamRecord[], ended: boolean): Item[];
  /** Bytes of log a split line holds at most: past it its parts so far go out as they are. */
  maxBytes: number;
}

/**
 * Joins the parts of each stream's split lines apart: Docker writes stdout and stderr into one file,
 * so a stderr line can come between the parts of a stdout line. Only a split line waits for its
 * parts: the other stream's lines go out at once, where they waited behind it (for minutes, when a
 * program writes a long line bit by bit) and made it go out in pieces once they were `maxBytes`.
 */
function createPartQueue<Item>(options: PartQueueOptions<Item>) {
  /** A line of its own, or the items of a split line (`split`), still gathering parts while `open`. */
  type Entry = {
    items: Item[];
    records: StreamRecord[];
    bytes: number;
    split: boolean;
    open: boolean;
    ended: boolean;
  };
  /** The split lines still gathering parts, at most one a stream, in the order they began. */
  const queue: Entry[] = [];
  /** The split line each stream is gathering, by stream. */
  const gathering = new Map<string, Entry>();

  const close = (entry: Entry, ended: boolean) => {
    entry.open = false;
    entry.ended = ended;
    const stream = entry.records[0]?.stream;
    if (stream !== undefined && gathering.get(stream) === entry) gathering.delete(stream);
  };
  const add = (entry: Entry, item: Item, record?: StreamRecord) => {
    entry.items.push(item);
    if (record) entry.records.push(record);
    entry.bytes += record ? Buffer.byteLength(record.log) : 0;
  };
  const enqueue = (item: Item, record: StreamRecord | undefined, open: boolean) => {
    const entry: Entry = { items: [], records: [], bytes: 0, split: open, open, ended: false };
    add(entry, item, record);
    queue.push(entry);
    if (open && record) gathering.set(record.stream, entry);
  };
  /** The lines no part is awaited for; a split line too long goes too. */
  const drain = (): Item[] => {
    const out: Item[] = [];
    for (let i = 0; i < queue.length; ) {
      const entry = queue[i] as Entry;
      // Returned when too long, so that a line that never ends cannot exhaust memory.
      if (entry.open && entry.bytes <= options.maxBytes) {
        i++;
        continue;
      }
      if (entry.open) close(entry, false);
      queue.splice(i, 1);
      out.push(...(entry.split ? options.join(entry.items, entry.records, entry.ended) : entry.items));
    }
    return out;
  };

  return {
    push(item: Item): Item[] {
      if (queue.length === 0) {
        const part = options.part(item);
        if (!part) return [item];
        enqueue(item, part, true);
        return drain();
      }
      const record = options.record(item);
      const entry = record && gathering.get(record.stream);
      if (entry && record) {
        add(entry, item, record);
        if (record.log.endsWith('\n')) close(entry, true);
      } else if (record) enqueue(item, record, !record.log.endsWith('\n'));
      else {
        // Not a Docker record (another kind of line, one too long): the parts before it stand on their own.
        for (const open of [...gathering.values()]) close(open, false);
        enqueue(item, undefined, false);
      }
      return drain();
    },
    /** Every item held, the parts of each split line still awaited as they are. */
    finish(): Item[] {
      for (const open of [...gathering.values()]) close(open, false);
      return drain();
    },
    /** The first item held, if any. */
    head: (): Item | undefined => queue[0]?.items[0],
    /** The first item of each split line held, by stream. */
    heads: (): Map<string, Item> =>
      new Map(queue.flatMap((e) => (e.records[0] && e.items[0] ? [[e.records[0].stream, e.items[0]]] : []))),
  };
}

/**
 * Joins the records of a line Docker split back into one record (the first part's time and stream,
 * every part's log), as Fluent Bit's docker_mode does: each part was a row of its own, a JSON line
 * cut in three was three rows of text. One over `maxBytes` is returned as a line too long.
 */
export function createDockerPartJoiner(maxBytes: number, resume?: DockerSplitsHeld): DockerPartJoiner {
  const recordOf = (line: SplitLine) => {
    const record = line.tooLongBytes === undefined ? dockerRecord(line.text) : undefined;
    return record && dockerStream(record);
  };
  let readTo = 0;
  const queue = createPartQueue<SplitLine>({
    part: (line) => (line.tooLongBytes === undefined ? dockerPart(line.text) : undefined),
    record: recordOf,
    join: (lines, records) => {
      const first = lines[0] as SplitLine;
      const last = lines[lines.length - 1] as SplitLine;
      const text = JSON.stringify({ ...records[0], log: records.map((r) => r.log).join('') });
      const bytes = Buffer.byteLength(text);
      const line = { text, start: first.start, end: last.end };
      return [bytes > maxBytes ? { ...line, text: text.slice(0, maxBytes), tooLongBytes: bytes } : line];
    },
    maxBytes,
  });
  return {
    push(line) {
      readTo = Math.max(readTo, line.end);
      if (resume && line.start < resume.readTo) {
        // Read again from the first split line held: only the parts of those held are taken again.
        const stream = recordOf(line)?.stream;
        const from = stream === undefined ? undefined : resume.open[stream];
        if (from === undefined || line.start < from) return [];
      }
      return queue.push(line);
    },
    finish: queue.finish,
    pendingStart: () => queue.head()?.start,
    held() {
      const heads = queue.heads();
      if (heads.size === 0) return undefined;
      return {
        readTo: Math.max(readTo, resume?.readTo ?? 0),
        open: Object.fromEntries([...heads].map(([stream, line]) => [stream, line.start])),
      };
    },
  };
}

/** The record of a Docker json-file line, whose log ends the line the parts before it began. */
function dockerRecord(text: string): DockerRecord | undefined {
  if (!text.startsWith('{"log":"')) return undefined;
  try {
    const record = JSON.parse(text) as { log?: unknown };
    return typeof record.log === 'string' ? (record as DockerRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** A POST /logs record of a stream Docker wrote: Fluent Bit's docker parser takes its time out. */
function streamRecord(item: { record: unknown } | { reason: string }): StreamRecord | undefined {
  if (!('record' in item)) return undefined;
  const { record } = item;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const { log, stream } = record as { log?: unknown; stream?: unknown };
  return typeof log === 'string' && typeof stream === 'string' ? (record as StreamRecord) : undefined;
}

/**
 * The records of a POST /logs body with the parts of each line Docker split joined into one, as a
 * file source joins them (Fluent Bit's docker parser without docker_mode sends them as they are):
 * records of one stream without the line break, followed by the one of that stream that has it,
 * with the other stream's records between them left after the joined one. Parts no such record
 * follows before the body's end or a record of no stream (its rest went in another request) stay
 * as they are.
 */
export function joinDockerRecords<Item extends { record: unknown } | { reason: string }>(
  items: Item[],
): Item[] {
  const queue = createPartQueue<Item>({
    part: (item) => {
      const record = streamRecord(item);
      return record && !record.log.endsWith('\n') ? record : undefined;
    },
    record: streamRecord,
    join: (parts, records, ended) =>
      ended
        ? [{ ...(parts[0] as Item), record: { ...records[0], log: records.map((r) => r.log).join('') } }]
        : parts,
    maxBytes: Number.POSITIVE_INFINITY,
  });
  return [...items.flatMap((item) => queue.push(item)), ...queue.finish()];
}
