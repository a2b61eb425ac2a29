// Listing a table's files: what its path: matches, why it matches nothing, and refusing what
// cannot be read (a file inlet may not read, one compressed with gzip).
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { InletError } from '../../errors/index.ts';
import type { TableRun } from '../extractor/index.ts';
import { relativePathStart } from '../relative-paths.ts';
import type { CsvTable } from './csv-config.ts';
import { isGzip } from './csv-file-encoding.ts';
import type { CsvJobContext } from './csv-job-context.ts';
import { NOTHING_IMPORTED } from './csv-refusals.ts';

export interface MatchedFile {
  path: string;
  stamp: string;
}

/** Files matching a path whose last segment may hold * and ?, in name order. */
export function matchFiles(pattern: string): MatchedFile[] {
  const dir = dirname(pattern);
  const name = basename(pattern);
  // Not existsSync: a directory inlet may not enter, or a symbolic link that leads back to itself,
  // would read as no file at all.
  const statOf = (path: string) => {
    try {
      return statSync(path);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') throw error;
      return undefined;
    }
  };
  // A file removed between the listing and the stat is no match.
  const stamp = (path: string) => {
    const stat = statOf(path);
    return stat?.isFile() ? { path, stamp: `${stat.size}:${Math.trunc(stat.mtimeMs)}` } : undefined;
  };
  if (!/[*?]/.test(name)) return statOf(pattern) ? [stamp(pattern)].filter((f) => f !== undefined) : [];
  // A file where the directory should be (export.csv/*.csv) matches nothing.
  if (!statOf(dir)?.isDirectory()) return [];
  const regex = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
  return readdirSync(dir)
    .filter((entry) => regex.test(entry))
    .sort()
    .map((entry) => stamp(join(dir, entry)))
    .filter((f) => f !== undefined);
}

/**
 * Why a path with no wildcard matched no file when something is there, or undefined: matchFiles
 * passes over it, and "no file matches" a path that is there misled. Not throwIfNoEntry: a path under
 * a file (export.csv/x.csv) throws ENOTDIR, which is no entry either.
 */
function whyNotAFile(path: string, table: CsvTable): string | undefined {
  let link: ReturnType<typeof lstatSync>;
  let stats: ReturnType<typeof statSync>;
  try {
    link = lstatSync(path);
  } catch {
    return undefined;
  }
  try {
    stats = statSync(path);
  } catch {
    // A link whose file is gone (an export moved or renamed under it): said as no file at all.
    return link.isSymbolicLink()
      ? `${path} is a symbolic link to ${readlinkSync(path)}, which does not exist; point the link at the export file, or remove it.`
      : undefined;
  }
  if (stats.isDirectory())
    return `${path} is a directory; path: names a file, or the files of a directory with a pattern such as ${join(table.path, `*.${table.format}`)}.`;
  // A named pipe, a socket or a device: matchFiles takes regular files only.
  if (!stats.isFile())
    return `${path} is no regular file (a named pipe, a socket or a device), and inlet imports export files; write the export to a file and point path: at it.`;
  return undefined;
}

/**
 * A file or directory the user inlet runs as may not read, said as such: Node's own words
 * (EACCES: permission denied, open '…') came as a file that could not be parsed.
 */
export function unreadable(where: string, error: unknown): unknown {
  const { code, path } = error as NodeJS.ErrnoException;
  if (code === 'ELOOP' && path !== undefined)
    return new InletError(
      'SOURCE_FILE_UNREADABLE',
      `${where}: inlet cannot read ${path} (a symbolic link that leads back to itself); point the link at the export file, or remove it. ${NOTHING_IMPORTED}`,
    );
  if ((code !== 'EACCES' && code !== 'EPERM') || path === undefined) return error;
  return new InletError(
    'SOURCE_FILE_UNREADABLE',
    `${where}: inlet may not read ${path} (permission denied); give the user inlet runs as read permission on it, and on the directories above it. ${NOTHING_IMPORTED}`,
  );
}

/** The files the table's path: matches; refuses a path that names something other than a file. */
export function matchTableFiles(job: CsvJobContext): MatchedFile[] {
  const { pattern, where, table } = job;
  let files: MatchedFile[];
  try {
    files = matchFiles(pattern);
  } catch (error) {
    throw unreadable(where, error);
  }
  const why = files.length === 0 && !/[*?]/.test(basename(pattern)) ? whyNotAFile(pattern, table) : undefined;
  if (why !== undefined) throw new InletError('SOURCE_FILE_NOT_FOUND', `${where}: ${why}`);
  return files;
}

/**
 * With no file matching: what an incremental or merge table that imported files before has to say
 * (nothing new), or the error for a path that matches nothing; undefined when files match.
 */
export function noFileMatches(
  job: CsvJobContext,
  run: TableRun,
  files: MatchedFile[],
  imported: Record<string, string>,
) {
  const { pattern, where, table, config } = job;
  // A drop directory whose files are moved away once imported failed every sync until the next
  // file came: an incremental or merge table that has imported files has nothing new then.
  const importedBefore = Object.keys(imported).length;
  if (files.length === 0 && importedBefore > 0) {
    const note =
      `${where}: no file matches ${pattern}, so nothing new was imported; the table keeps the rows of the ` +
      `${importedBefore === 1 ? 'file' : `${importedBefore} files`} imported before, no longer there (moved away once imported, or path: changed)`;
    run.logger.info({ pattern }, note);
    return { rows: 0, position: { files: imported }, notes: [note] };
  }
  if (files.length === 0)
    throw new InletError(
      'SOURCE_FILE_NOT_FOUND',
      `${where}: no file matches ${pattern}; check this table's path${isAbsolute(table.path) ? '' : `: ${table.path} (${relativePathStart(config)})`}.`,
    );
  return undefined;
}

/** Refuses a file compressed with gzip among the files not imported before, unchanged. */
export function refuseGzip(
  job: CsvJobContext,
  files: MatchedFile[],
  imported: Record<string, string>,
  key: (file: MatchedFile) => string,
): void {
  const { where } = job;
  // Its compressed bytes were taken for a header with a NUL byte, with advice (tr -d) that ruins
  // it, or, in incremental, searched for lines. Files imported before and unchanged are not opened.
  let gzip: MatchedFile | undefined;
  try {
    gzip = files.find((file) => !imported[key(file)]?.startsWith(`${file.stamp}:`) && isGzip(file.path));
  } catch (error) {
    throw unreadable(where, error);
  }
  if (gzip)
    throw new InletError(
      'SOURCE_DATA_INVALID',
      `${where}: ${basename(gzip.path)} is compressed with gzip, which a csv source does not read; ` +
        `unpack it (gunzip -k ${basename(gzip.path)}) and point path: at the file that gives. ${NOTHING_IMPORTED}`,
    );
}
