import { join } from 'node:path';
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

/** DATA_DIR_UNUSABLE for a folder or file of the data directory that could not be made or written. */
export function dataDirUnusable(dataDir: string, doing: string, path: string, error: unknown): InletError {
  const { code, message } = error as NodeJS.ErrnoException;
  return new InletError(
    'DATA_DIR_UNUSABLE',
    `data_dir ${dataDir} cannot be used: ${doing} ${path} failed with ${code ?? message}${ERRNO_HINTS[code ?? ''] ?? ''}. Set data_dir in inlet.yaml to a directory this user can write, or give this user the data directory (chown -R).`,
    { cause: error },
  );
}

/** Quotes a string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
