import { isAbsolute, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InletConfig } from '../../config/index.ts';
import { InletError, isInletError } from '../../errors/index.ts';
import { errorFields } from '../../log/index.ts';
import { relativePathStart } from '../relative-paths.ts';
import type { Source, SourceContext } from '../types.ts';
import { type FileOptions, logKindOf } from './file-config.ts';
import { PERMISSION_DENIED, unreadableAdvice, whyNoFile } from './file-glob.ts';
import { type FileTailer, openFileTailer } from './file-tailer.ts';
import { DEFAULT_TABLE } from './log-tables.ts';

const MAX_BACKOFF_MS = 30_000;

/** What is wrong with the source's paths, when they name no file for a reason that can be told. */
const whyNone = (options: FileOptions, baseDir: string): string | undefined => {
  const caps = { maxFiles: options.max_files, maxDirs: options.max_dirs };
  const reasons = [options.path].flat().flatMap((p) => whyNoFile(p, baseDir, caps) ?? []);
  return reasons.length > 0 ? `${reasons.join('; ')}.` : undefined;
};

/** Where inlet looked, for a path that matched nothing for no reason whyNone knows: a relative one names its folder. */
const lookedAt = (options: FileOptions, config: InletConfig): string => {
  const paths = [options.path].flat();
  const start = paths.some((p) => !isAbsolute(p)) ? ` (${relativePathStart(config)})` : '';
  return `nothing is at ${paths.map((p) => resolve(config.baseDir, p)).join(', ')}; check the path and that the files exist${start}.`;
};

/**
 * Tails the files until stopped: a scan every poll_ms, a batch written every batch_seconds (or
 * batch_rows). A failure is logged and reading resumes from the last checkpoint, so nothing is
 * skipped or written twice; the process never goes down for a bad file.
 */
function followFiles(name: string, options: FileOptions, context: SourceContext): { stop(): Promise<void> } {
  const { logger } = context;
  const stopping = new AbortController();
  const signal = AbortSignal.any([context.signal, stopping.signal]);
  const running = (async () => {
    let tailer: FileTailer | undefined;
    let failures = 0;
    let quietAbout = '';
    while (!signal.aborted) {
      try {
        tailer ??= await openFileTailer(name, options, { ...context, signal, onProgress: undefined });
        const { found, unreadable } = await tailer.catchUp();
        // Paths inlet may not read were named by catchUp already.
        if (found === 0 && unreadable.length === 0 && quietAbout !== 'no files') {
          quietAbout = 'no files';
          const why = whyNone(options, context.config.baseDir);
          logger.warn(
            { source: name, path: options.path },
            `no log file matches the path yet; waiting for one${why ? ` (${why.replace(/\.$/, '')})` : ''}`,
          );
        } else if (found > 0) quietAbout = '';
        if (tailer.batchAgeMs() === 0 || tailer.batchAgeMs() >= options.batch_seconds * 1000)
          await tailer.flush();
        failures = 0;
      } catch (error) {
        failures++;
        const code = isInletError(error) ? error.code : 'error';
        if (code !== 'SYNC_BUSY' || quietAbout !== code)
          logger.error(
            { ...errorFields(error), source: name },
            'reading log files failed; retrying from the last checkpoint',
          );
        quietAbout = code;
        try {
          tailer?.reset();
        } catch (resetError) {
          logger.error(
            { ...errorFields(resetError), source: name },
            'could not return to the last checkpoint',
          );
        }
      }
      const wait =
        failures === 0 ? options.poll_ms : Math.min(MAX_BACKOFF_MS, options.poll_ms * 2 ** failures);
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
    if (!tailer) return;
    try {
      await tailer.flush();
    } catch (error) {
      // Not lost: the checkpoint still points before these rows, so the next start reads them again.
      logger.error(
        { ...errorFields(error), source: name },
        'could not write the last log rows before stopping',
      );
    }
    await tailer.close();
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}

/** A `type: file` source: nginx/Apache access logs, JSON lines or regex-described logs, tailed with a checkpoint. */
export function createFileSource(name: string, options: FileOptions): Source {
  const kind = logKindOf(options);
  return {
    name,
    type: 'file',
    sharedTables: [{ table: options.table ?? DEFAULT_TABLE[kind], holds: `${kind} logs`, option: 'table' }],
    async sync(context) {
      const tailer = await openFileTailer(name, options, context);
      try {
        // Unreadable paths are said once: by the error below when no file could be read.
        const { found, unreadable } = await tailer.catchUp({ failsIfNoneFound: true });
        // Before saying that no file matches: the records gathered from files now gone are written.
        await tailer.flush();
        if (found === 0 && unreadable.length > 0) {
          const named = unreadable.slice(0, 3).map((u) => `${u.path} (${u.reason})`);
          if (unreadable.length > 3) named.push(`${unreadable.length - 3} more`);
          const denied = unreadable.every((u) => u.reason === PERMISSION_DENIED);
          const advice = [...new Set(unreadable.map((u) => unreadableAdvice(u.reason)))].join('; ');
          throw new InletError(
            'SOURCE_FILE_UNREADABLE',
            `sources "${name}" path ${JSON.stringify(options.path)}: inlet ${denied ? 'may not' : 'cannot'} read ${named.join(', ')}; ${advice}.`,
            { details: { source: name } },
          );
        }
        if (found === 0) {
          const why = whyNone(options, context.config.baseDir);
          throw new InletError(
            'SOURCE_FILE_NOT_FOUND',
            `No file matches sources "${name}" path ${JSON.stringify(options.path)}; ${why ?? lookedAt(options, context.config)}`,
            { details: { source: name } },
          );
        }
        const { rows, rejects, gathering, waiting, splitWaiting } = tailer.totals();
        // Stopped (Ctrl-C, a workflow's timeout) before the files' ends: said as the other sources
        // say it, not as a finished run whose unread rest looked like a line waiting for its newline.
        if (context.signal.aborted)
          throw new InletError(
            'SYNC_CANCELLED',
            `Sync of "${name}" was stopped; the ${rows.toLocaleString('en-US')} lines read before are kept, and the next run reads on after them.`,
            { details: { source: name } },
          );
        // Said, so that a record or line missing from this run is not taken for a lost one.
        const left = `${tailer.table} (records still gathering lines, left for the next run)`;
        const unended = `${tailer.table} (last lines without a newline at the end of their file, left until it is written)`;
        const split = `${tailer.table} (lines Docker split in parts, waiting for their last part)`;
        return {
          source: name,
          rows,
          tables: [
            { table: tailer.table, rows },
            ...(rejects > 0 ? [{ table: `_rejects/${name} (rejected lines)`, rows: rejects }] : []),
            ...(gathering > 0 ? [{ table: left, rows: gathering }] : []),
            ...(waiting > 0 ? [{ table: unended, rows: waiting }] : []),
            ...(splitWaiting > 0 ? [{ table: split, rows: splitWaiting }] : []),
          ],
        };
      } finally {
        await tailer.close();
      }
    },
    follow: (context) => followFiles(name, options, context),
  };
}
