import { basename, join } from 'node:path';
import { linkedFiles } from '../../lake/index.ts';
import { warnLinkedFiles } from '../lake-links.ts';
import { acquireSourceLock } from '../source-lock.ts';
import type { SourceContext } from '../types.ts';
import { createDockerSplitKeeper } from './docker-split-keeper.ts';
import { findCandidates, thereNow, type Unreadable } from './file-candidates.ts';
import { type FileCheckpoint, recoverCheckpoint, saveCheckpoint } from './file-checkpoint.ts';
import type { FileOptions } from './file-config.ts';
import { PERMISSION_DENIED, unreadableAdvice } from './file-glob.ts';
import { readHead } from './file-reader.ts';
import { HEAD_BYTES, planReads, type TrackedFile } from './file-tracker.ts';
import { createGoneFiles } from './gone-files.ts';
import { createLogBatch } from './log-batch.ts';
import { createLogLakeWriter } from './log-lake-writer.ts';
import { createLineParser } from './log-line-parser.ts';
import { logMetrics } from './log-metrics.ts';
import { createLogRowBuilder } from './log-rows.ts';
import { DEFAULT_TABLE } from './log-tables.ts';
import { createTaskReader } from './task-reader.ts';
import { createWaitingLines, withoutWaiting } from './waiting-lines.ts';

export type TailerContext = Pick<
  SourceContext,
  'config' | 'layout' | 'state' | 'logger' | 'metrics' | 'signal' | 'onProgress' | 'warnOnce'
>;

export interface FileTailer {
  /** The lake table rows go to. */
  table: string;
  /**
   * Scans the globs once and reads every file to its size now, writing full batches on the way;
   * returns how many files matched, and the paths inlet may not read (each also logged once, but
   * not when none matched and `failsIfNoneFound`: the caller's error names them then).
   */
  catchUp(options?: { failsIfNoneFound?: boolean }): Promise<{ found: number; unreadable: Unreadable[] }>;
  /** Writes the rows gathered so far and then the checkpoint that covers them. */
  flush(): Promise<void>;
  /** Milliseconds since the oldest unwritten row was read; 0 when none waits. */
  batchAgeMs(): number;
  /** After a failure: drops unwritten rows and returns to the last checkpoint. */
  reset(): void;
  /**
   * Rows and rejects written so far, the records the last scan left gathering lines, the files
   * whose last line it left waiting for its newline, and those that end in a line Docker split,
   * waiting for its last part.
   */
  totals(): { rows: number; rejects: number; gathering: number; waiting: number; splitWaiting: number };
  close(): Promise<void>;
}

/** A tracked file in a debug line: name, inode and offset. */
const describe = (f: TrackedFile) => `${basename(f.path)}#${f.ino}@${f.offset}`;

/**
 * Reads one `type: file` source: plans which files hold new lines (rotation, truncation, .gz),
 * parses them into rows, and writes batches to the lake, saving the checkpoint only after the
 * rows it covers are durable. Holds the source's lock until closed.
 */
export async function openFileTailer(
  name: string,
  options: FileOptions,
  context: TailerContext,
): Promise<FileTailer> {
  const { config, layout, state, logger } = context;
  const lock = acquireSourceLock(join(layout.state, 'locks', `source-${name}.lock`), name, 'read');
  const writer = await createLogLakeWriter({
    layout,
    logger,
    compactMinFiles: config.loader.compact_min_files,
  }).catch((error) => {
    lock.release();
    throw error;
  });
  let committed: FileCheckpoint | undefined = recoverCheckpoint(state, name);
  /** What the lines have shown of the field before the client, for the checkpoint. */
  let firstField = committed?.firstField;
  const parser = createLineParser(options, {
    layout: firstField,
    onLayout: (shown) => {
      firstField = shown;
    },
  });
  const table = options.table ?? DEFAULT_TABLE[parser.kind];
  // Left out of queries and merges of the table (partitionFiles), as in lake/events.
  warnLinkedFiles(context, linkedFiles(join(layout.lake, table)));
  const metrics = logMetrics(context.metrics);
  const baseDir = config.baseDir;
  const patterns = typeof options.path === 'string' ? [options.path] : options.path;
  const rotatedGlobs =
    options.rotated === false
      ? []
      : [
          ...patterns.flatMap((p) => [`${p}.*`, `${p}-*`]),
          ...(options.rotated === true ? [] : [options.rotated].flat()),
        ];
  let firstRun = committed === undefined;
  let files: TrackedFile[] = [];
  const batch = createLogBatch({
    name,
    source: options,
    parser,
    rows: createLogRowBuilder({ saltDir: layout.salts }),
    logger,
    batchNumber: () => (committed?.batches ?? 0) + 1,
  });
  const totals = { rows: 0, rejects: 0 };
  const warned = new Set<string>();
  const waitingLines = createWaitingLines(options.max_line_bytes);
  const dockerSplits = createDockerSplitKeeper(options.max_line_bytes);
  const goneFiles = createGoneFiles({ name, source: options, rotatedGlobs, batch, logger });
  const reader = createTaskReader({
    name,
    source: options,
    parser,
    batch,
    // Called once a batch is full, long after flush is defined below.
    flush: () => flush(),
    waitingLines,
    dockerSplits,
    warned,
    context,
  });

  /**
   * Back to the committed checkpoint: its files, and the lines they end with that wait for their
   * newline, as far as they were read, so that those are not read again from their start.
   */
  const restore = () => {
    dockerSplits.clear();
    reader.clear();
    files = withoutWaiting(committed?.files ?? []);
    waitingLines.restore(committed?.files ?? []);
  };
  restore();
  /** The files the configured paths name now, as opposed to rotated files next to them. */
  let livePaths = new Set<string>();
  /** dev:ino → the real path, of the files the configured paths name through a symlink now. */
  let targets = new Map<string, string>();

  const saveCommitted = (batches = committed?.batches ?? 0) => {
    committed = {
      version: 1,
      files: waitingLines.withWaiting(files),
      batches,
      ...(firstField ? { firstField } : {}),
    };
    saveCheckpoint(state, name, committed);
  };

  const flush = async () => {
    if (batch.size() === 0) {
      // Nothing unwritten, so what is in memory is durable: keep new files, finished .gz, pruning.
      if (
        JSON.stringify(files) !== JSON.stringify(withoutWaiting(committed?.files ?? [])) ||
        firstField !== committed?.firstField
      )
        saveCommitted();
      return;
    }
    if (logger.isLevelEnabled('debug'))
      logger.debug(
        { source: name, batch: batch.base, rows: batch.rows.length, files: files.map(describe) },
        'writing a log batch',
      );
    const prepared = await writer.prepare({
      base: batch.base,
      tables: [{ kind: parser.kind, name: table, rows: batch.rows }],
      rejects: { stream: name, lines: batch.rejects },
    });
    try {
      saveCheckpoint(state, name, {
        version: 1,
        files: committed?.files ?? [],
        batches: committed?.batches ?? 0,
        ...(committed?.firstField ? { firstField: committed.firstField } : {}),
        pending: prepared.paths,
      });
      prepared.publish();
    } catch (error) {
      prepared.discard();
      throw error;
    }
    saveCommitted((committed?.batches ?? 0) + 1);
    await writer.compact(prepared.paths, `${name}-`);
    totals.rows += batch.rows.length;
    totals.rejects += batch.rejects.length;
    metrics.lines.inc({ source: name }, batch.rows.length);
    if (batch.rejects.length > 0) {
      metrics.rejects.inc({ source: name }, batch.rejects.length);
      logger.warn(
        { source: name, rejected: batch.rejects.length },
        `log lines rejected; they are kept with the reason in lake/_rejects/${name}`,
      );
    }
    batch.clear();
  };

  return {
    table,
    async catchUp(catchUpOptions) {
      const scan = findCandidates({
        source: name,
        patterns,
        rotatedGlobs,
        baseDir,
        files,
        maxFiles: options.max_files,
        maxDirs: options.max_dirs,
      });
      const { found, unreadable, held } = scan;
      livePaths = scan.livePaths;
      targets = scan.targets;
      for (const { path, reason } of unreadable) {
        if (warned.has(path) || (found.length === 0 && catchUpOptions?.failsIfNoneFound)) continue;
        warned.add(path);
        logger.warn(
          { source: name, path },
          `cannot read a log file or directory (${reason}); ${reason === PERMISSION_DENIED ? 'give the user inlet runs as read permission on it' : unreadableAdvice(reason)}`,
        );
      }
      const plan = await planReads(waitingLines.withUnended(files), found, {
        now: Date.now(),
        readHead: (c, at) => readHead(c, HEAD_BYTES, at),
        startAtEnd: firstRun && !options.backfill,
      });
      files = plan.files;
      const tracked = new Set(files.map((f) => `${f.dev}:${f.ino}`));
      waitingLines.prune(tracked);
      dockerSplits.prune(tracked);
      reader.prune(tracked);
      for (const f of files) {
        const target = targets.get(`${f.dev}:${f.ino}`);
        if (target !== undefined) f.target = target;
      }
      const there = thereNow(found, held);
      if (plan.deferred === 0) goneFiles.warnMovedAway(files, livePaths, there);
      goneFiles.endRecords(files, there);
      if (logger.isLevelEnabled('debug'))
        logger.debug(
          {
            source: name,
            tasks: plan.tasks.map((t) => `${describe(t.file)}→${t.candidate.size}`),
            files: files.map(describe),
          },
          'planned log reads',
        );
      // Pinned at once: a restart before the first batch must not start at the (later) end again.
      if (firstRun && !options.backfill) saveCommitted();
      firstRun = false;
      await reader.readAll(plan.tasks, livePaths);
      return { found: found.length, unreadable };
    },
    flush,
    batchAgeMs() {
      return batch.ageMs();
    },
    reset() {
      batch.clear();
      // Back to the last checkpoint saved whole before anything else can fail: left where they
      // were, the files' offsets would stay past the lines of the batch just dropped, for good.
      restore();
      committed = recoverCheckpoint(state, name);
      restore();
    },
    totals: () => {
      const waiting = files.filter((f) => !f.gz && !f.gathered && f.ino !== -1 && f.offset < f.size);
      const split = waiting.filter((f) => dockerSplits.isWaiting(f)).length;
      return {
        ...totals,
        gathering: files.filter((f) => f.gathered).length,
        waiting: waiting.length - split,
        splitWaiting: split,
      };
    },
    async close() {
      // The lines still waiting for their newline, as far as they were read, go into the checkpoint
      // with the offsets it holds, so that the next start (or inlet sync) reads only what is added
      // to them. Saved here rather than every poll_ms a line grows. Only with nothing unwritten:
      // otherwise the checkpoint's offsets are behind the lines read.
      if (committed && batch.size() === 0) {
        const next = waitingLines.withWaiting(withoutWaiting(committed.files));
        if (JSON.stringify(next) !== JSON.stringify(committed.files)) {
          committed = { ...committed, files: next };
          saveCheckpoint(state, name, committed);
        }
      }
      writer.close();
      lock.release();
    },
  };
}
