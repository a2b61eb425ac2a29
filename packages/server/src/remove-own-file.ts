import { rmSync } from 'node:fs';
import { InletError } from './errors/index.ts';

/**
 * Removes a file inlet made and left (a lock, a temporary file, a merge's manifest), if it is
 * there. A folder under its name, which inlet never makes, is named as such: rm failed on it with
 * EISDIR, and inlet start with it, as an error inlet did not foresee. Its own module so the state,
 * the WAL and the lake can all use it.
 */
export function removeOwnFile(path: string, what: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_FS_EISDIR') throw error;
    throw new InletError(
      'DATA_DIR_UNUSABLE',
      `${path} is a folder where inlet keeps a file (${what}), so it cannot be removed or written; move the folder out of the data directory, then start inlet again.`,
      { cause: error },
    );
  }
}
