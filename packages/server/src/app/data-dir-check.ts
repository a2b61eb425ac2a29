import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InletError } from '../errors/index.ts';
import { type DataLayout, dataDirUnusable, fileInTheWay, makeFolder } from '../lake/index.ts';
import { segmentId } from '../wal/index.ts';

/**
 * Makes the data directory's folders and checks this user can write in each: one left by another
 * user (a start as root, then as a service user) otherwise failed later with a bare EACCES.
 */
export function prepareDataDir(layout: DataLayout, configFile: string): void {
  const { dataDir } = layout;
  const unusable = (path: string, doing: string, error: unknown) =>
    dataDirUnusable(dataDir, doing, path, error, configFile);
  const folders = [
    dataDir,
    layout.lake,
    layout.events,
    // Where the loader keeps what it skips: a file in its place failed every load pass with ENOTDIR.
    join(layout.rejects, 'events'),
    layout.walEvents,
    layout.state,
    layout.salts,
    layout.tmp,
  ];
  for (const dir of folders) {
    try {
      makeFolder(dir);
    } catch (error) {
      throw fileInTheWay(layout, dir) ?? unusable(dir, 'making', error);
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw unusable(dir, 'writing in', error);
    }
  }
  // The files inlet writes in place: the state store, and the WAL segments it recovers and appends to.
  const state = join(dataDir, 'state.sqlite');
  const files = [
    state,
    `${state}-wal`,
    `${state}-shm`,
    ...readdirSync(layout.walEvents)
      .filter((name) => segmentId(name) !== undefined)
      .map((name) => join(layout.walEvents, name)),
  ];
  for (const file of files) {
    const stats = statSync(file, { throwIfNoEntry: false });
    // A named pipe there (mkfifo) hung the start for good, as reading it waits for a writer.
    if (stats && !stats.isFile())
      throw new InletError(
        'DATA_DIR_UNUSABLE',
        `data_dir ${dataDir} cannot be used: ${file} is ${stats.isDirectory() ? 'a directory' : 'no regular file (a named pipe, socket or device)'} where inlet keeps a file. Move it out of the data directory.`,
      );
    try {
      accessSync(file, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(file, 'writing', error);
    }
  }
  checkOneFileSystem(layout);
}

/**
 * Refuses a lake on another file system than data/tmp. Files are written under data/tmp and renamed
 * into the lake, which works only within one file system: with data/lake (or data/tmp) a mount of
 * its own, every load failed with EXDEV, nothing reached the lake and the WAL filled up until
 * intake refused events.
 */
function checkOneFileSystem(layout: DataLayout): void {
  const tmp = statSync(layout.tmp).dev;
  const apart = [layout.lake, layout.events].find((dir) => statSync(dir).dev !== tmp);
  if (apart === undefined) return;
  throw new InletError(
    'DATA_DIR_UNUSABLE',
    `data_dir ${layout.dataDir} cannot be used: ${apart} and ${layout.tmp} are on different file systems (a mount or a symlink of their own?), and inlet writes files in ${layout.tmp} and renames them into the lake, which works only within one file system. Mount the volume at data_dir itself, so that tmp/ and lake/ share it.`,
  );
}
