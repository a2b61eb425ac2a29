import { accessSync, constants, lstatSync, realpathSync, statSync } from 'node:fs';
import { InletError } from '../../errors/index.ts';
import { globFiles, isPassedOver, PERMISSION_DENIED, type WalkedDirs } from './file-glob.ts';
import type { Candidate, TrackedFile } from './file-tracker.ts';

/** A file or directory the globs lead to that inlet may not read, and why. */
export interface Unreadable {
  path: string;
  reason: string;
}

/** What one scan of a file source's globs found. */
export interface Candidates {
  /** The files the globs match now that inlet may read. */
  found: Candidate[];
  /** The paths inlet may not read, with why. */
  unreadable: Unreadable[];
  /** dev:ino of the files that are there but may not be read. */
  held: Set<string>;
  /** The files the configured paths name now, as opposed to rotated files next to them. */
  livePaths: Set<string>;
  /** dev:ino → the real path, of the files the configured paths name through a symlink now. */
  targets: Map<string, string>;
}

/** The error of a source whose globs match more than max_files files, naming the glob that went past. */
function tooManyFiles(source: string, glob: string, maxFiles: number): InletError {
  const count = maxFiles.toLocaleString('en-US');
  return new InletError(
    'CONFIG_INVALID',
    `sources "${source}": ${glob} and the source's other paths match more than ${count} files (max_files), which inlet would all follow and read as logs; name the directory the logs are in (/var/log/app/*.log, or /var/log/app/**/*.log), or, if these are all log files, raise max_files.`,
    { details: { source } },
  );
}

/**
 * The error of a source whose globs list more than max_dirs directories to find their files,
 * naming the glob that went past.
 */
function tooManyDirs(source: string, glob: string, maxDirs: number): InletError {
  const count = maxDirs.toLocaleString('en-US');
  return new InletError(
    'CONFIG_INVALID',
    `sources "${source}": ${glob} and the source's other paths look through more than ${count} directories (max_dirs) for their files, which inlet would do again every poll_ms; name the directory the logs are in (/var/log/app/*.log, or /var/log/app/**/*.log), or, if the logs are spread over that many directories, raise max_dirs.`,
    { details: { source } },
  );
}

/**
 * Lists the files a file source's configured paths (`patterns`) and rotated globs match now, with
 * the files symlinked paths named when last read (`files`' targets), and stats each once.
 */
export function findCandidates(options: {
  /** The source's name, for the error of a glob that matches more than maxFiles files (or lists more than maxDirs directories). */
  source: string;
  patterns: readonly string[];
  rotatedGlobs: readonly string[];
  baseDir: string;
  files: readonly TrackedFile[];
  maxFiles: number;
  /** At most this many directories listed to find them. */
  maxDirs: number;
}): Candidates {
  const { source, patterns, rotatedGlobs, baseDir, files, maxFiles, maxDirs } = options;
  const seen = new Set<string>();
  const held = new Set<string>();
  const out: Candidate[] = [];
  const unreadable = new Map<string, string>();
  const onUnreadable = (path: string, reason: string) => unreadable.set(path, reason);
  // A glob that matches a whole tree (/data/**) read every file in it as a log: gigabytes of
  // memory and of rejected lines. Counted over both kinds of globs, the walk stopped past the cap.
  let matched = 0;
  // A ** over a large tree that holds almost no logs (/data/**/*.nomatch) was walked whole every
  // poll_ms, however few files it matched.
  const dirs: WalkedDirs = { listed: new Set(), limit: maxDirs };
  const listed = (glob: string) => {
    const paths = globFiles(glob, baseDir, onUnreadable, maxFiles - matched, dirs);
    matched += paths.length;
    if (matched > maxFiles) throw tooManyFiles(source, glob, maxFiles);
    if (dirs.listed.size > maxDirs) throw tooManyDirs(source, glob, maxDirs);
    return paths;
  };
  const livePaths = new Set(patterns.flatMap(listed));
  const targets = new Map<string, string>();
  const noteTarget = (path: string, key: string) => {
    try {
      if (lstatSync(path).isSymbolicLink()) targets.set(key, realpathSync(path));
    } catch {
      // Repointed or removed since the stat: the next scan looks again.
    }
  };
  const rotated = new Set(rotatedGlobs.flatMap(listed));
  // The files symlinked paths named when last read, wherever they are: a link repointed to the
  // next file (current -> app-2026.log) leaves lines in the old one that the link no longer shows.
  const formerTargets = new Map(
    files.filter((f) => f.target !== undefined && f.ino !== -1).map((f) => [f.target as string, f]),
  );
  for (const path of new Set([...livePaths, ...rotated, ...formerTargets.keys()])) {
    if (isPassedOver(path)) continue;
    let key: string | undefined;
    try {
      const stat = statSync(path);
      key = `${stat.dev}:${stat.ino}`;
      if (!stat.isFile() || seen.has(key)) continue;
      // Another file now where a former target was is nothing the globs name.
      const former = formerTargets.get(path);
      if (former && !livePaths.has(path) && !rotated.has(path) && key !== `${former.dev}:${former.ino}`)
        continue;
      // A file inlet may not open was planned as "moved while looked at", again every scan, and
      // never read nor mentioned.
      accessSync(path, constants.R_OK);
      seen.add(key);
      if (livePaths.has(path)) noteTarget(path, key);
      out.push({
        path,
        dev: stat.dev,
        ino: stat.ino,
        size: stat.size,
        mtimeMs: stat.mtimeMs,
        birthtimeMs: stat.birthtimeMs,
        gz: path.endsWith('.gz'),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        unreadable.set(path, PERMISSION_DENIED);
        if (key) held.add(key);
      }
      // Otherwise rotated away between the listing and the stat; the next scan sees where it went.
    }
  }
  return {
    found: out,
    unreadable: [...unreadable].map(([path, reason]) => ({ path, reason })),
    held,
    livePaths,
    targets,
  };
}

/** Which tracked files are still there, for the scan that found `found` and `held`. */
export interface ThereNow {
  /** dev:ino of the files found, and of those there that inlet may not read. */
  present: Set<string>;
  /** Whether a tracked file is still at its path, or may not be looked up there. */
  hidden(file: TrackedFile): boolean;
}

/**
 * The dev:ino of the files found now, and of those there that inlet may not read; and whether a
 * tracked file is still at its path, or may not be looked up there (a directory closed to inlet).
 * A file that may not be read is not gone: it may get lines again once its permissions are back.
 * A directory that may be entered but not listed (drwx--x--x) hides nothing: a file gone from
 * its path there is gone.
 */
export function thereNow(found: readonly Candidate[], held: ReadonlySet<string>): ThereNow {
  const present = new Set([...found.map((c) => `${c.dev}:${c.ino}`), ...held]);
  const hidden = (file: TrackedFile) => {
    try {
      const stat = statSync(file.path);
      return stat.dev === file.dev && stat.ino === file.ino;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EACCES' || code === 'EPERM';
    }
  };
  return { present, hidden };
}
