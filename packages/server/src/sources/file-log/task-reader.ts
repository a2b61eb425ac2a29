import type { SourceContext } from '../types.ts';
import type { DockerPartJoiner } from './docker-partials.ts';
import type { DockerSplitKeeper } from './docker-split-keeper.ts';
import type { FileOptions } from './file-config.ts';
import { type ReadOutcome, readTask } from './file-reader.ts';
import { fileKey as keyOf, type ReadTask, type TrackedFile } from './file-tracker.ts';
import { createKeptJoiners } from './kept-joiners.ts';
import type { SplitLine } from './line-splitter.ts';
import type { LogBatch } from './log-batch.ts';
import type { LineParser } from './log-line-parser.ts';
import { createFirstLineTest } from './multiline-parsers.ts';
import { createRecordJoiner, type JoinedRecord, type RecordJoiner } from './record-joiner.ts';
import type { WaitingLines } from './waiting-lines.ts';

// A .gz this young that ends early is probably still being written by logrotate.
const GZIP_SETTLE_MS = 120_000;
// A rotated file untouched this long gets no more bytes: a last line without its newline is whole.
const ROTATED_SETTLE_MS = 120_000;

/**
 * Reads a scan's planned reads of a file source into its batch: each file's new lines, joined into
 * multi-line records or Docker split lines as the source says, their offsets moved no further than
 * a restart may start from, a last record ended once no more lines can come for it, what a read
 * ends holding kept for the next, and the warnings about what a file holds or lacks (bytes that are
 * not UTF-8, a last line long without its newline, a file inlet may not read). Progress is told
 * in lines, estimated from the bytes still to read.
 */
export interface TaskReader {
  /** Reads the tasks in order until the source stops; `livePaths`: the files the configured paths name now. */
  readAll(tasks: readonly ReadTask[], livePaths: ReadonlySet<string>): Promise<void>;
  /** Forgets what is kept for files not in `tracked` (dev:ino). */
  prune(tracked: ReadonlySet<string>): void;
  /** Forgets what is kept between reads: the files go back to a checkpoint. */
  clear(): void;
}

/** Creates the reader of the source `name`'s planned reads, writing with `flush` when a batch is full. */
export function createTaskReader(options: {
  name: string;
  source: FileOptions;
  parser: LineParser;
  batch: LogBatch;
  flush(): Promise<void>;
  waitingLines: WaitingLines;
  dockerSplits: DockerSplitKeeper;
  /** The paths already said to be unreadable, by the scan's warnings too. */
  warned: Set<string>;
  context: Pick<SourceContext, 'logger' | 'signal' | 'onProgress'>;
}): TaskReader {
  const { name, source, parser, batch, flush, waitingLines, dockerSplits, warned } = options;
  const { logger, signal } = options.context;
  /** The record joiners whose read ended inside a record: the next read goes on with one. */
  const recordJoiners = createKeptJoiners<RecordJoiner>();
  /** dev:ino@offset of the last lines already said to wait for their newline, in this run. */
  const warnedUnended = new Set<string>();
  /** The files already said to hold bytes that are not UTF-8. */
  const warnedNotUtf8 = new Set<string>();
  let linesRead = 0;
  // The formats that read a Docker json-file line (json_lines, the access formats) read a line
  // Docker split as one; multiline records are joined from the lines as they are.
  const joinsDockerParts = !source.multiline && source.format !== 'regex';

  const onLines = async (
    lines: SplitLine[],
    file: TrackedFile,
    joiner?: RecordJoiner,
    docker?: DockerPartJoiner,
  ) => {
    linesRead += lines.length;
    if (parser.kind === 'access') parser.observe?.(lines);
    for (const split of lines) {
      if (split.notUtf8 && !warnedNotUtf8.has(file.path)) {
        // Stored changed: said once a file (a run), with where the first such line starts.
        warnedNotUtf8.add(file.path);
        logger.warn(
          { source: name, path: file.path, offset: split.start },
          'a log line holds bytes that are not UTF-8 (a file written in another encoding, such as Latin-1, or binary data): each is stored as U+FFFD (�); have the program write its log in UTF-8',
        );
      }
      // A byte order mark some editors and Windows tools put at the start of a file.
      const line =
        split.start === 0 && split.text.charCodeAt(0) === 0xfeff
          ? { ...split, text: split.text.slice(1) }
          : split;
      if (joiner) {
        for (const record of joiner.push(line)) batch.addRecord(file, record);
        // Never past the start of a record still gathering lines: after a restart it is read again
        // whole, so none of its lines is lost or written twice.
        const offset = joiner.pendingStart() ?? line.end;
        // The lines kept for the record that started at the old offset belong to one now written.
        if (offset !== file.offset) delete file.gathered;
        file.offset = offset;
        if (joiner.skipping()) file.skipping = true;
        else delete file.skipping;
      } else if (docker) {
        for (const whole of docker.push(line)) batch.addLine(file, whole);
        // Never past the first part of a line Docker split: after a restart it is read again whole,
        // and the other lines read since, written already, are skipped.
        file.offset = docker.pendingStart() ?? line.end;
        dockerSplits.noteHeld(file, docker);
      } else {
        batch.addLine(file, line, split.text);
        file.offset = line.end;
      }
      if (batch.size() >= source.batch_rows) await flush();
    }
  };

  /** The joiners a read of `task` goes through, and where it goes on from when one is kept. */
  const joinersFor = (task: ReadTask) => {
    // The one a read ended inside a record with goes on from where it stopped, the record's
    // lines so far held; a restart reads the record again from its start (the offset).
    const kept = source.multiline ? recordJoiners.take(task) : undefined;
    const joiner =
      source.multiline &&
      (kept?.joiner ??
        createRecordJoiner({
          isFirst: createFirstLineTest(source.multiline),
          maxLines: source.multiline.max_lines,
          maxBytes: source.max_line_bytes,
          skipping: task.file.skipping,
        }));
    const { docker, from } = joinsDockerParts
      ? dockerSplits.joinerFor(task)
      : { docker: undefined, from: kept?.from };
    return { joiner: joiner || undefined, docker, from };
  };

  /**
   * A path's own file is never taken as complete (its writer may go on with the line), so a line
   * that never gets its newline waits for good: said once, as inlet sync counts it; once across
   * restarts and runs of inlet sync too, as the checkpoint keeps the line (`kept`).
   */
  const warnUnended = ({ file, candidate }: ReadTask, docker: DockerPartJoiner | undefined) => {
    const kept = waitingLines.partials.get(keyOf(file));
    const key = `${keyOf(file)}@${file.offset}`;
    const split = docker?.pendingStart() === file.offset;
    if (kept?.warned || file.splitWarned === file.offset || warnedUnended.has(key)) return;
    warnedUnended.add(key);
    if (kept?.start === file.offset) kept.warned = true;
    if (split) file.splitWarned = file.offset;
    const minutes = ROTATED_SETTLE_MS / 60_000;
    logger.warn(
      { source: name, path: candidate.path, offset: file.offset },
      split
        ? `a Docker json-file log ends with the parts of a line Docker split (a line over 16 KiB) whose last part has not come for ${minutes} minutes: inlet joins a split line once its last part, the record whose log ends in a line break, is written, so this one waits for it`
        : `a log file ends with a line that has had no newline for ${minutes} minutes: inlet reads a line once its newline is written, so this one waits; if nothing will write it (a file exported or copied without a newline at its end), add it (echo >> file)`,
    );
  };

  /** Remembers the record a read ended inside; a read stopped early keeps what was known of it. */
  const keepGathered = (file: TrackedFile, record: JoinedRecord | undefined) => {
    if (record && record.end >= (file.gathered?.end ?? 0))
      file.gathered = { text: record.text, end: record.end, missedScans: 0 };
  };

  /** What a read ended with: its last record ended or kept gathering, its joiners kept, a .gz cut short. */
  const afterRead = (
    task: ReadTask,
    outcome: ReadOutcome,
    finishLastLine: boolean,
    joiner: RecordJoiner | undefined,
    docker: DockerPartJoiner | undefined,
  ) => {
    const settled = Date.now() - task.candidate.mtimeMs > GZIP_SETTLE_MS;
    // The last record of a file ends when no more lines can come (a .gz, a rotated file at rest)
    // or none came for flush_seconds; otherwise it waits, and the checkpoint with it.
    const last =
      joiner &&
      ((outcome.status === 'read' &&
        (task.candidate.gz ||
          finishLastLine ||
          Date.now() - task.candidate.mtimeMs >= (source.multiline?.flush_seconds ?? 0) * 1000)) ||
        (outcome.status === 'corrupt' && settled))
        ? joiner.finish()
        : undefined;
    if (last) {
      batch.addRecord(task.file, last);
      task.file.offset = last.end;
      delete task.file.gathered;
    }
    // The parts of a line Docker split at the end of a file no more is written to stand on their own.
    if (docker && (task.candidate.gz || finishLastLine))
      dockerSplits.finish(task.file, docker, batch.addLine);
    // What the file's offset waits at, for inlet sync to say: a split line's last part, not a newline.
    if (docker) dockerSplits.afterRead(task.file, docker, outcome.status === 'read');
    // Past the split line said to wait: a next one that waits so long is said again.
    if (task.file.splitWarned !== undefined && task.file.splitWarned !== task.file.offset)
      delete task.file.splitWarned;
    const gathering = joiner && !last && !task.candidate.gz ? joiner.pending() : undefined;
    keepGathered(task.file, gathering);
    if (joiner && gathering && outcome.status === 'read' && joiner.pendingStart() === task.file.offset)
      recordJoiners.keep(task.file, joiner, gathering.end);
    // The line after the record that waits for its newline goes with it, should the file go.
    const { gathered } = task.file;
    if (gathered && outcome.status === 'read' && outcome.unended && outcome.unended.start >= gathered.end) {
      const { start, head, bytes, readTo } = outcome.unended;
      task.file.gathered = { ...gathered, tail: { start, head: head.toString('base64'), bytes, readTo } };
    }
    if (outcome.status === 'corrupt' && settled) {
      batch.reject(task.file, task.file.offset, `gzip data ends early or is corrupt: ${outcome.message}`, '');
      task.file.done = true;
    }
  };

  return {
    async readAll(tasks, livePaths) {
      let total = 0;
      for (const { candidate, file } of tasks)
        total += candidate.gz ? candidate.size : candidate.size - file.offset;
      let done = 0;
      for (const task of tasks) {
        if (signal.aborted) break;
        const finishLastLine =
          !livePaths.has(task.candidate.path) && Date.now() - task.candidate.mtimeMs > ROTATED_SETTLE_MS;
        const { joiner, docker, from } = joinersFor(task);
        const outcome = await readTask(task, {
          maxLineBytes: source.max_line_bytes,
          from,
          finishLastLine,
          signal,
          partials: waitingLines.partials,
          onLines: (lines, file) => onLines(lines, file, joiner, docker),
          onBytes: (bytes) => {
            done += bytes;
            // Lines are what a user counts; their total is estimated from the bytes still to read.
            if (linesRead > 0)
              options.context.onProgress?.(
                linesRead,
                Math.max(linesRead, Math.round((linesRead * total) / done)),
              );
          },
        });
        if (outcome.status === 'unreadable' && !warned.has(task.candidate.path)) {
          warned.add(task.candidate.path);
          logger.warn(
            { source: name, path: task.candidate.path, err: outcome.message },
            'cannot read a log file',
          );
        }
        const { file, candidate } = task;
        if (
          outcome.status === 'read' &&
          !source.multiline &&
          !candidate.gz &&
          !finishLastLine &&
          file.offset < candidate.size &&
          Date.now() - candidate.mtimeMs > ROTATED_SETTLE_MS
        )
          warnUnended(task, docker);
        afterRead(task, outcome, finishLastLine, joiner, docker);
      }
    },
    prune: (tracked) => recordJoiners.prune(tracked),
    clear: () => recordJoiners.clear(),
  };
}
