import { type Dirent, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

// Node 20 has no fs.glob; log paths need only * ? [...] within a name and ** across directories.

const hasMagic = (part: string) => /[*?[]/.test(part);

function partRegex(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const ch = part[i] as string;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = part.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        const body = part
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export const PERMISSION_DENIED = 'permission denied';
const SYMLINK_LOOP = 'a symbolic link that leads back to itself';

/** Why a path cannot be looked into: `permission denied` and the like; undefined when it is simply not there. */
const failure = (error: unknown): string | undefined => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  if (code === 'ELOOP') return SYMLINK_LOOP;
  return code === 'EACCES' || code === 'EPERM' ? PERMISSION_DENIED : (error as Error).message;
};

/** What to do about a path inlet cannot read, by the reason `failure` gave. */
export function unreadableAdvice(reason: string): string {
  if (reason === PERMISSION_DENIED)
    return 'give the user inlet runs as read permission on the log files and their directories';
  if (reason === SYMLINK_LOOP) return 'point the link at the log file, or remove it';
  return 'check that the path names log files inlet can read';
}

/** Called with each path a glob could not look into, and why. */
export type OnUnreadable = (path: string, reason: string) => void;

const isFile = (path: string, onUnreadable?: OnUnreadable): boolean => {
  try {
    return statSync(path).isFile();
  } catch (error) {
    const reason = failure(error);
    if (reason) onUnreadable?.(path, reason);
    return false;
  }
};

// Compressed files other than gzip would only fill the rejects with binary; .tmp and .swp files
// are a program's or an editor's work in progress.
const PASSED_OVER = /\.(bz2|xz|zst|lz4|zip|7z|tmp|swp)$/;

/** Whether a file a source's globs match is passed over: compressed other than with gzip, or temporary. */
export const isPassedOver = (path: string) => PASSED_OVER.test(path);

/** Why inlet does not read a file it passes over, and what to do. */
const passedOverWhy = (path: string): string => {
  const ext = PASSED_OVER.exec(path)?.[1];
  return ext === 'tmp' || ext === 'swp'
    ? `${path} ends in .${ext}, which inlet passes over as a temporary file (a program's or an editor's); name the file the program logs to, or give this one another name`
    : `${path} is a .${ext} file, which inlet does not read (of compressed files, it reads .gz); decompress it, or have logrotate compress with gzip, its default`;
};

/** The most a source's scan may find and list: its max_files and max_dirs. */
export interface ScanCaps {
  maxFiles: number;
  maxDirs: number;
}

/**
 * Why a path names no file, when that can be told: it names a directory, or only files inlet
 * passes over (a .bz2, a .tmp), or starts with a `~` that no shell expanded (inlet.yaml is read by
 * no shell). Undefined otherwise. A glob is walked no further than a scan walks it (`caps`).
 */
export function whyNoFile(pattern: string, baseDir: string, caps: ScanCaps): string | undefined {
  if (pattern === '~' || pattern.startsWith('~/'))
    return `${pattern} starts with ~, which inlet does not expand; write the whole path (or \${HOME}/…)`;
  const absolute = resolve(baseDir, pattern);
  if (hasMagic(pattern)) {
    // Asked when no file was found: the files the glob matches, if any, were all passed over. Past
    // a cap the scan fails saying so; walked on, a tree grown since the scan was listed whole.
    const dirs: WalkedDirs = { listed: new Set(), limit: caps.maxDirs };
    const files = globFiles(pattern, baseDir, undefined, caps.maxFiles, dirs);
    if (files.length > caps.maxFiles || dirs.listed.size > caps.maxDirs) return undefined;
    const [passed] = files.filter(isPassedOver);
    return passed && `${absolute} matches only files inlet does not read: ${passedOverWhy(passed)}`;
  }
  try {
    const stat = statSync(absolute);
    if (stat.isDirectory())
      return `${absolute} is a directory; name the files in it, such as ${join(absolute, '*.log')}`;
    if (stat.isFile() && isPassedOver(absolute)) return passedOverWhy(absolute);
  } catch {
    // Not there (or not to be looked at, which the caller tells apart): nothing more to say.
  }
  return undefined;
}

/** True when `pattern` holds a wildcard. */
export function isGlob(pattern: string): boolean {
  return hasMagic(pattern);
}

/** The directories the walks of one scan have listed, counted over a source's globs together. */
export interface WalkedDirs {
  readonly listed: Set<string>;
  /** A walk lists no more new directories once more than this many are listed. */
  readonly limit: number;
}

/**
 * Regular files (or links to them) matching a glob, absolute or relative to baseDir, sorted; a
 * wildcard skips dot-names. A directory that may not be listed, or a path that may not be looked
 * up, is reported to onUnreadable: to the user it is not the same as a path that matches nothing.
 * The walk stops once more than `limit` files are found, or once `dirs` holds more than its limit:
 * a glob that matches a whole tree, or looks through one for a few files, is not walked to its end.
 */
export function globFiles(
  pattern: string,
  baseDir: string,
  onUnreadable?: OnUnreadable,
  limit = Number.POSITIVE_INFINITY,
  dirs: WalkedDirs = { listed: new Set(), limit: Number.POSITIVE_INFINITY },
): string[] {
  const absolute = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  const parts = absolute.split(sep);
  const fixed: string[] = [];
  while (parts.length > 0 && !hasMagic(parts[0] as string)) fixed.push(parts.shift() as string);
  const root = fixed.join(sep) || sep;
  const out: string[] = [];
  const walk = (dir: string, rest: string[]) => {
    if (rest.length === 0 || out.length > limit || dirs.listed.size > dirs.limit) return;
    dirs.listed.add(dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      const reason = failure(error);
      if (reason) onUnreadable?.(dir, reason);
      return;
    }
    match(dir, entries, rest);
  };
  // Given the entries already listed, so that ** matching nothing does not list its directory again.
  const match = (dir: string, entries: Dirent[], rest: string[]) => {
    const [part, ...tail] = rest;
    if (part === undefined || out.length > limit) return;
    if (part === '**') {
      match(dir, entries, tail);
      for (const entry of entries)
        if (entry.isDirectory() && !entry.name.startsWith('.')) walk(join(dir, entry.name), rest);
      return;
    }
    const re = hasMagic(part) ? partRegex(part) : undefined;
    for (const entry of entries) {
      if (
        re
          ? !re.test(entry.name) || (entry.name.startsWith('.') && !part.startsWith('.'))
          : entry.name !== part
      )
        continue;
      const path = join(dir, entry.name);
      if (tail.length === 0) {
        if (entry.isFile() || (entry.isSymbolicLink() && isFile(path, onUnreadable))) out.push(path);
      } else if (entry.isDirectory()) walk(path, tail);
    }
  };
  if (parts.length === 0) {
    // No wildcard: the path itself, when it is a file. Looked up, not listed from its directory,
    // which a log directory such as drwx--x--x allows to anyone who may read the file.
    const path = resolve(absolute);
    if (isFile(path, onUnreadable)) out.push(path);
  } else walk(root, parts);
  return [...new Set(out)].sort();
}
