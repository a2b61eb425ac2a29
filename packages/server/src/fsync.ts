import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * fsyncs a file or directory by path: a directory so a file made or renamed in it survives a
 * power cut. Its own module so the WAL and the lake, which imports the WAL, can both use it.
 */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** syncPath on libuv's thread pool, for the collector's process, whose event loop answers requests. */
export async function syncPathAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
