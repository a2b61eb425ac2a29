import { accessSync, constants, mkdirSync, type Stats, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { InletError } from '../errors/index.ts';

/** Where everything lives under the data directory; the one place these paths are spelled. */
export function dataLayout(dataDir: string) {
  const lake = join(dataDir, 'lake');
  return {
    dataDir,
    lake,
    events: join(lake, 'events'),
    rejects: join(lake, '_rejects'),
    walEvents: join(dataDir, 'wal', 'events'),
    salts: join(dataDir, 'state', 'salts'),
    state: join(dataDir, 'state'),
    tmp: join(dataDir, 'tmp'),
  };
}

export type DataLayout = ReturnType<typeof dataLayout>;

const ERRNO_HINTS: Record<string, string> = {
  EROFS: ' (a read-only file system)',
  EACCES: ' (no permission)',
  EPERM: ' (no permission)',
  ENOTDIR: ' (a file stands where a directory should)',
};

/** The file standing at dir, or at a folder above it inside dataDir, where inlet keeps a folder. */
function fileAt(dataDir: string, dir: string): string | undefined {
  let path = dir;
  while (path.startsWith(`${dataDir}${sep}`)) {
    let stat: Stats | undefined;
    try {
      stat = statSync(path, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // ENOTDIR: a file further up is in the way
    }
    if (stat?.isDirectory()) return undefined;
    if (stat) return path;
    path = dirname(path);
  }
  return undefined;
}

const isFile = (path: string): boolean => {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false; // ENOTDIR: a file further up, which the errno's hint names
  }
};

const fileNotFolder = (dataDir: string, file: string, cause?: unknown) =>
  new InletError(
    'DATA_DIR_UNUSABLE',
    `data_dir ${dataDir} cannot be used: ${file} is a file where inlet keeps a folder. Move it out of the data directory.`,
    { cause },
  );

/**
 * What really kept a folder from being made. Node's recursive mkdir, refused with an errno it does not
 * expect (EROFS: a read-only file system, as a systemd unit's ProtectSystem=strict or a container's
 * read-only root leaves /var/lib), stats the folder it could not make and throws that stat's ENOENT:
 * "making /var/lib/inlet/data failed with ENOENT" sent people looking for a missing parent folder. The
 * nearest folder that is there, asked whether it can be written in, gives the errno.
 */
function makeError(path: string, error: unknown): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  let dir = dirname(path);
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if (statSync(dir, { throwIfNoEntry: false })) break;
    } catch {
      return error; // ENOTDIR, EACCES: not the case above
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (refused) {
    return refused;
  }
  return error;
}

/**
 * Makes dir and the folders above it that are not there, one at a time. Node's recursive mkdir, told
 * ENOENT for a folder whose parent is there (a pseudo file system: data_dir /proc/inlet), makes the
 * parent again and retries for good: inlet start spun at full CPU, saying nothing. Here the ENOENT
 * is thrown, and dataDirUnusable names it.
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  let path = resolve(dir);
  for (; !statSync(path, { throwIfNoEntry: false }); path = dirname(path)) {
    missing.unshift(path);
    if (dirname(path) === path) break;
  }
  // A file where a folder goes fails as recursive mkdir fails on it (EEXIST), for fileInTheWay to name.
  if (missing.length === 0 && !statSync(path).isDirectory()) mkdirSync(path);
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Made meanwhile by another process (a loader starting beside inlet run).
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory()) throw error;
    }
  }
}

/** Whether path's parent folder is there, so an ENOENT making path says its file system makes none. */
const parentIsFolder = (path: string): boolean => {
  try {
    return statSync(dirname(path), { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
};

/** DATA_DIR_UNUSABLE for a folder or file of the data directory that could not be made or written. */
export function dataDirUnusable(
  dataDir: string,
  doing: string,
  path: string,
  thrown: unknown,
  /** The file that sets data_dir, which the advice names (configFileName). */
  configFile: string,
): InletError {
  const error = doing === 'making' ? makeError(path, thrown) : thrown;
  const { code, message } = error as NodeJS.ErrnoException;
  // A file where inlet keeps a folder (data/tmp written by hand) was told to set data_dir or chown.
  const file = code === 'EEXIST' || code === 'ENOTDIR' ? fileAt(dataDir, path) : undefined;
  if (file !== undefined) return fileNotFolder(dataDir, file, error);
  // data_dir itself a file was "making <data_dir> failed with EEXIST", with advice about permissions.
  if ((code === 'EEXIST' || code === 'ENOTDIR') && isFile(dataDir))
    return new InletError(
      'DATA_DIR_UNUSABLE',
      `data_dir ${dataDir} is a file, not a directory; set data_dir in ${configFile} to a directory (inlet makes it when it is not there), or move the file away.`,
      { cause: error },
    );
  const hint =
    code === 'ENOENT' && doing === 'making' && parentIsFolder(path)
      ? ` (its folder ${dirname(path)} is there, but its file system makes no folders, as /proc and /sys make none)`
      : (ERRNO_HINTS[code ?? ''] ?? '');
  return new InletError(
    'DATA_DIR_UNUSABLE',
    `data_dir ${dataDir} cannot be used: ${doing} ${path} failed with ${code ?? message}${hint}. ${
      code === 'EROFS'
        ? `Set data_dir in ${configFile} to a directory on a writable file system, or make this one writable (a systemd unit with ProtectSystem= needs it in ReadWritePaths=; a container, a volume there).`
        : `Set data_dir in ${configFile} to a directory this user can write, or give this user the data directory (chown -R).`
    }`,
    { cause: error },
  );
}

/**
 * A file inside the data directory where inlet keeps a folder, named: the message was EEXIST with
 * advice about permissions. In the lake it is LAKE_UNREADABLE, as inlet run and inlet query say it.
 */
export function fileInTheWay(layout: DataLayout, dir: string): InletError | undefined {
  const path = fileAt(layout.dataDir, dir);
  if (path === undefined) return undefined;
  const inLake = path === layout.lake || path.startsWith(`${layout.lake}${sep}`);
  return inLake
    ? new InletError(
        'LAKE_UNREADABLE',
        `The lake's tables cannot be read or written: ${path} is a file where inlet keeps a folder of the lake. Move what is there out of the lake, or restore the lake from a backup.`,
      )
    : fileNotFolder(layout.dataDir, path);
}

/**
 * Makes folders of the data directory, for a command that writes there without inlet start's checks
 * (inlet sync): a file where one should be ended it with a bare ENOTDIR, as an error inlet did not foresee.
 * Each must be writable too, as inlet start checks its own: a folder that was there on a read-only
 * file system (or another user's) ended inlet run with "an error inlet did not foresee: EROFS: …
 * open '…/state/locks/model-daily.lock.123.tmp'" (exit 5).
 */
export function makeDataFolders(layout: DataLayout, folders: readonly string[], configFile: string): void {
  for (const dir of folders) {
    try {
      makeFolder(dir);
    } catch (error) {
      throw fileInTheWay(layout, dir) ?? dataDirUnusable(layout.dataDir, 'making', dir, error, configFile);
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw dataDirUnusable(layout.dataDir, 'writing in', dir, error, configFile);
    }
  }
}

/** Quotes a string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
