import type { SplitLine } from './line-splitter.ts';

/** A Docker json-file record: the line a container wrote (or a part of it) in `log`. */
type DockerRecord = { log: string } & Record<string, unknown>;

/**
 * The Docker json-file record a line holds when its `log` is a part of a longer line: Docker's
 * json-file driver writes a line over 16 KiB as several records, all but the last without the
 * line break. Looked for cheaply first: a whole line's record has `\n",` after its log. Only with
 * Docker's `stream` and `time`: a `{"log":"…"}` of Fluent Bit's tail, whose lines never end in a
 * line break, would otherwise be joined line after line.
 */
export function dockerPart(text: string): DockerRecord | undefined {
  if (text.includes('\\n","')) return undefined;
  const record = dockerRecord(text);
  return record &&
    !record.log.endsWith('\n') &&
    typeof record.stream === 'string' &&
    typeof record.time === 'string'
    ? record
    : undefined;
}

export interface DockerPartJoiner {
  /** Takes the next line; returns the lines it completes: itself, or the parts before it joined with it. */
  push(line: SplitLine): SplitLine[];
  /** The parts gathered so far as one line (no more can come: the file is finished), if any. */
  finish(): SplitLine | undefined;
  /** Where the line being gathered starts: a restart must read again from there. */
  pendingStart(): number | undefined;
}

/**
 * Joins the records of a line Docker split back into one record (the first part's time and stream,
 * every part's log), as Fluent Bit's docker_mode does: each part was a row of its own, a JSON line
 * cut in three was three rows of text. One over `maxBytes` is returned as a line too long.
 */
export function createDockerPartJoiner(maxBytes: number): DockerPartJoiner {
  type Parts = { first: DockerRecord; logs: string[]; bytes: number; start: number; end: number };
  let parts: Parts | undefined;

  const joined = (gathered: Parts, end: number, last?: DockerRecord): SplitLine => {
    parts = undefined;
    const text = JSON.stringify({ ...gathered.first, log: gathered.logs.join('') + (last?.log ?? '') });
    const bytes = Buffer.byteLength(text);
    const line = { text, start: gathered.start, end };
    return bytes > maxBytes ? { ...line, text: text.slice(0, maxBytes), tooLongBytes: bytes } : line;
  };

  return {
    push(line) {
      const part = line.tooLongBytes === undefined ? dockerPart(line.text) : undefined;
      if (part) {
        parts ??= { first: part, logs: [], bytes: 0, start: line.start, end: line.end };
        parts.logs.push(part.log);
        parts.bytes += Buffer.byteLength(part.log);
        parts.end = line.end;
        // Returned at once when too long, so a line that never ends cannot exhaust memory.
        return parts.bytes > maxBytes ? [joined(parts, line.end)] : [];
      }
      if (!parts) return [line];
      const last = line.tooLongBytes === undefined ? dockerRecord(line.text) : undefined;
      if (last) return [joined(parts, line.end, last)];
      // Not the part that ends it (another kind of line, one too long): the parts stand on their own.
      return [joined(parts, parts.end), line];
    },
    finish: () => (parts ? joined(parts, parts.end) : undefined),
    pendingStart: () => parts?.start,
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

/** A POST /logs record that is a part of a line Docker split: its log without the line break. */
function recordPart(item: { record: unknown } | { reason: string }): DockerRecord | undefined {
  if (!('record' in item)) return undefined;
  const { record } = item;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const { log, stream } = record as { log?: unknown; stream?: unknown };
  return typeof log === 'string' && typeof stream === 'string' ? (record as DockerRecord) : undefined;
}

/**
 * The records of a POST /logs body with the parts of each line Docker split joined into one, as a
 * file source joins them (Fluent Bit's docker parser without docker_mode sends them as they are):
 * records of one stream without the line break, followed by the one of that stream that has it.
 * Parts no such record follows in the body (its rest went in another request) stay as they are.
 */
export function joinDockerRecords<Item extends { record: unknown } | { reason: string }>(
  items: Item[],
): Item[] {
  const out: Item[] = [];
  for (let i = 0; i < items.length; i++) {
    const first = recordPart(items[i] as Item);
    let end = i;
    if (first && !first.log.endsWith('\n')) {
      // The run of parts of its stream, and the record that ends them.
      while (end + 1 < items.length) {
        const next = recordPart(items[end + 1] as Item);
        if (!next || next.stream !== first.stream) break;
        end++;
        if (next.log.endsWith('\n')) break;
      }
      const run = items.slice(i, end + 1);
      const ended = end > i && recordPart(items[end] as Item)?.log.endsWith('\n');
      // Unended, the run's later parts cannot start one either: taken as they are, at once.
      if (ended) {
        const log = run.map((item) => (recordPart(item) as DockerRecord).log).join('');
        out.push({ ...(items[i] as Item), record: { ...first, log } });
      } else out.push(...run);
      i = end;
      continue;
    }
    out.push(items[i] as Item);
  }
  return out;
}
