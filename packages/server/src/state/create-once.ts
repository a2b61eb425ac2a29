import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates a small file with its whole content unless one exists: written to a draft of this
 * call's, fsynced and linked to its name, then the directory fsynced. A reader never sees it
 * half written (an empty API token or salt would be worse than none), and of two processes
 * creating it at once one wins and the other gets false and reads the winner's. Returns whether
 * this call created it.
 */
export function createOnce(path: string, data: string | Buffer, mode = 0o600): boolean {
  // Its own name per call: intake worker threads share the process's pid.
  const draft = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(draft, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return true;
}
