import type { SourceContext } from '../types.ts';
import type { FileOptions } from './file-config.ts';
import type { TrackedFile } from './file-tracker.ts';
import type { SplitLine } from './line-splitter.ts';
import type { LineParser } from './log-line-parser.ts';
import { type LogRowBuilder, rowJson } from './log-rows.ts';
import type { JoinedRecord } from './record-joiner.ts';

/**
 * The rows and rejects a file source has read since its last write to the lake: each line or
 * multi-line record parsed into a row, or kept with why it was refused.
 */
export interface LogBatch {
  /** The name the batch's files get: the batch number and where its first line starts. */
  readonly base: string;
  readonly rows: string[];
  readonly rejects: string[];
  /** Rows and rejects gathered. */
  size(): number;
  /** Milliseconds since the oldest unwritten row was read; 0 when none waits. */
  ageMs(): number;
  /** Adds one line, as a row or a reject (`raw`: its text as read, byte order mark and all). */
  addLine(file: TrackedFile, line: SplitLine, raw?: string): void;
  /** Adds one multi-line record, as a row or a reject. */
  addRecord(file: TrackedFile, record: JoinedRecord): void;
  /** Adds a reject: what starts at `offset` in `file` and why (`bytes`: the length of a line cut to `raw`). */
  reject(file: TrackedFile, offset: number, reason: string, raw: string, bytes?: number): void;
  /** Drops what was gathered: written, or given up after a failure. */
  clear(): void;
}

/** Creates the batch of the source `name`; `batchNumber` gives the number of the next batch it writes. */
export function createLogBatch(options: {
  name: string;
  source: FileOptions;
  parser: LineParser;
  rows: LogRowBuilder;
  logger: SourceContext['logger'];
  batchNumber: () => number;
}): LogBatch {
  const { name, source, parser, rows, logger } = options;
  const site = source.site ?? name;
  const host = source.host ?? null;
  let batch = { base: '', startedAt: 0, rows: [] as string[], rejects: [] as string[] };
  let warnedCut = false;

  /** A line's row or why it is refused; `file`: the file a multi-line record was read from. */
  const toRow = (
    text: string,
    truncated = false,
    file?: TrackedFile,
  ): { row: string } | { reason: string } => {
    const now = Date.now();
    try {
      if (parser.kind === 'access') {
        const parsed = parser.parse(text);
        return parsed.ok ? { row: rowJson(rows.access(parsed.value, name, site, host, now)) } : parsed;
      }
      const parsed = parser.parse(text);
      if (!parsed.ok) return parsed;
      const fields = truncated ? { ...parsed.value.fields, multiline_truncated: true } : parsed.value.fields;
      // A record with no time of its own (a trace written as text) has the time of the one before it
      // in its file, as Fluent Bit keeps a multi-line record's first line's time: at the time it was
      // read, a backfilled file's panic landed at "now", far from the lines around it.
      let { tsMs } = parsed.value;
      if (file && tsMs !== undefined) file.lastTsMs = tsMs;
      else if (file) tsMs = file.lastTsMs;
      return { row: rowJson(rows.app({ ...parsed.value, tsMs, fields }, name, now)) };
    } catch (error) {
      // inlet's own failure on a line must not stop this source at that line for good: the line is
      // kept with the reason, like any line inlet cannot read, and the lines after it go on.
      return { reason: `inlet failed on this line (${(error as Error).message}); please report it` };
    }
  };

  const startBatch = (file: TrackedFile, offset: number) => {
    if (batch.rows.length > 0 || batch.rejects.length > 0) return;
    // Named after the batch number and where it starts: a retry after a crash (same checkpoint)
    // replaces its own files, and a truncated file starting at 0 again gets new names.
    batch.base = `${name}-${String(options.batchNumber()).padStart(8, '0')}-${file.ino}-${offset}`;
    batch.startedAt = Date.now();
  };

  const reject = (file: TrackedFile, offset: number, reason: string, raw: string, bytes?: number) => {
    startBatch(file, offset);
    batch.rejects.push(
      JSON.stringify({
        source: name,
        file: file.path,
        offset,
        reason,
        raw,
        ...(bytes === undefined ? {} : { truncated: true, bytes }),
        rejected_at: new Date().toISOString(),
      }),
    );
  };

  const tooLong = (bytes: number) =>
    `line is ${bytes} bytes, longer than max_line_bytes (${source.max_line_bytes}); raw holds its start`;

  return {
    get base() {
      return batch.base;
    },
    get rows() {
      return batch.rows;
    },
    get rejects() {
      return batch.rejects;
    },
    size: () => batch.rows.length + batch.rejects.length,
    ageMs: () => (batch.rows.length + batch.rejects.length === 0 ? 0 : Date.now() - batch.startedAt),
    reject,
    addRecord(file, record) {
      startBatch(file, record.start);
      if (record.tooLongBytes !== undefined) {
        reject(
          file,
          record.start,
          `${tooLong(record.tooLongBytes)}; it is a record's first line, and the record's further lines are dropped`,
          record.text,
          record.tooLongBytes,
        );
        return;
      }
      const result = toRow(record.text, record.truncated, file);
      if ('row' in result) batch.rows.push(result.row);
      else
        reject(
          file,
          record.start,
          record.truncated ? `${result.reason} (the record was cut to its first lines)` : result.reason,
          record.text,
        );
      if (record.truncated && !warnedCut) {
        warnedCut = true;
        logger.warn(
          { source: name, file: file.path, offset: record.start },
          `a multi-line record grew past multiline.max_lines (${source.multiline?.max_lines}) or max_line_bytes (${source.max_line_bytes}): it is kept cut, with fields.multiline_truncated, and its further lines are dropped. If records are not that long, check that multiline.start matches their first lines only`,
        );
      }
    },
    addLine(file, line, raw = line.text) {
      startBatch(file, line.start);
      if (line.tooLongBytes !== undefined) {
        reject(file, line.start, tooLong(line.tooLongBytes), line.text, line.tooLongBytes);
      } else if (line.text.trim() !== '') {
        // A line of only spaces or tabs holds no record, as an empty one holds none (POST /logs
        // passes over both): it was rejected as "does not match" or "not valid JSON".
        const result = toRow(line.text);
        if ('row' in result) batch.rows.push(result.row);
        else reject(file, line.start, result.reason, raw);
      }
    },
    clear() {
      batch = { base: '', startedAt: 0, rows: [], rejects: [] };
    },
  };
}
