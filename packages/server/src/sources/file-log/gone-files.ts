import type { SourceContext } from '../types.ts';
import type { ThereNow } from './file-candidates.ts';
import type { FileOptions } from './file-config.ts';
import { fileKey as keyOf, type TrackedFile } from './file-tracker.ts';
import type { LogBatch } from './log-batch.ts';
import { createFirstLineTest } from './multiline-parsers.ts';
import { heldLine } from './waiting-lines.ts';

/**
 * What a file source does about its tracked files that a scan finds gone from where the globs look
 * (rotated elsewhere, deleted, emptied by copytruncate with no copy to be found): says once that
 * the lines written to one after the last read are not read, and writes the record still gathering
 * lines, or the last line still without its newline, that inlet had read of it, as nothing more can
 * end them.
 */
export interface GoneFiles {
  /** Warns about each file a path (`livePaths`) named that is nowhere now, and marks it known by its first bytes only. */
  warnMovedAway(files: readonly TrackedFile[], livePaths: ReadonlySet<string>, there: ThereNow): void;
  /** Writes into the batch the records and last lines of the files gone, once they are surely gone. */
  endRecords(files: readonly TrackedFile[], there: ThereNow): void;
}

/** Creates the gone-file handling of the source `name`, writing into `batch`. */
export function createGoneFiles(options: {
  name: string;
  source: FileOptions;
  rotatedGlobs: readonly string[];
  batch: LogBatch;
  logger: SourceContext['logger'];
}): GoneFiles {
  const { name, source, rotatedGlobs, batch, logger } = options;
  return {
    /**
     * Warns when a path now names another file and the file it named is nowhere the globs look, not
     * even as a copy or .gz (and none is still being written): it was rotated somewhere the `rotated`
     * patterns miss, or deleted, and the lines written to it after the last read are not read. The
     * file is then known by its first bytes only (as a copy is), so it is named once, and still found
     * if it turns up where the globs look.
     */
    warnMovedAway(files, livePaths, { present, hidden }) {
      for (const f of files) {
        if (f.ino === -1 || f.gz || !livePaths.has(f.path) || present.has(`${f.dev}:${f.ino}`) || hidden(f))
          continue;
        f.ino = -1;
        logger.warn(
          { source: name, path: f.path },
          source.rotated === false
            ? 'a log file was rotated (renamed or deleted) and rotated is false: the lines written to it after inlet last read it are not read; set rotated: true, or a glob of where the rotated files go'
            : 'a log file was rotated where the rotated patterns do not look (or deleted): the lines written to it after inlet last read it are not read; if logrotate moves it elsewhere (olddir), set rotated to a glob of where the rotated files go, such as /var/log/app/archive/app.log.*',
        );
      }
    },

    /**
     * Writes the records still gathering lines in files that are gone (deleted, or emptied by
     * copytruncate) with their content nowhere the globs look: no next first line or idle time can
     * end them any more. The offset moves past each, so a copy found later goes on after it.
     * A copy or .gz found instead is read from the record's start, whole.
     */
    endRecords(files, { present, hidden }) {
      for (const file of files) {
        const { unended } = file;
        if (unended && file.ino !== -1 && (present.has(keyOf(file)) || hidden(file))) delete file.unended;
        else if (unended) {
          file.unended = { ...unended, missedScans: unended.missedScans + 1 };
          if (rotatedGlobs.length > 0 && file.unended.missedScans < 2) continue;
          const line = heldLine(source.max_line_bytes, { ...unended, start: file.offset });
          if (line) batch.addLine(file, line);
          file.offset = unended.readTo;
          delete file.unended;
          continue;
        }
        const { gathered } = file;
        if (!gathered || (file.ino !== -1 && (present.has(`${file.dev}:${file.ino}`) || hidden(file))))
          continue;
        // A new object: the checkpoint's copies of the files share this one.
        file.gathered = { ...gathered, missedScans: gathered.missedScans + 1 };
        // Where rotated files are looked for, a file missed by one scan only may have been renamed
        // (or copied) while the globs were listed; it is then found by the next.
        if (rotatedGlobs.length > 0 && file.gathered.missedScans < 2) continue;
        const { tail } = gathered;
        const line = tail && heldLine(source.max_line_bytes, tail);
        const isFirst = source.multiline && createFirstLineTest(source.multiline);
        // A line that does not start a record is the record's last, as its newline would have made it.
        if (line && tail && line.tooLongBytes === undefined && isFirst && !isFirst(line.text))
          batch.addRecord(file, {
            text: `${gathered.text}\n${line.text}`,
            start: file.offset,
            end: tail.readTo,
            truncated: false,
          });
        else {
          batch.addRecord(file, {
            text: gathered.text,
            start: file.offset,
            end: gathered.end,
            truncated: false,
          });
          if (line && tail) batch.addLine(file, line);
        }
        file.offset = tail ? tail.readTo : gathered.end;
        delete file.gathered;
      }
    },
  };
}
