import { join } from 'node:path';

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

/** Quotes a string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
