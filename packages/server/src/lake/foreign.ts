import { statSync } from 'node:fs';
import { type MovedFile, moveOut } from './damaged.ts';
import { type DataLayout, sqlString } from './layout.ts';

/** Runs one statement over the lake and returns its rows. */
export type LakeRows = (sql: string) => Promise<unknown[][]>;

/** Columns every file of the events table has: the dedup key and the time a load filters on. */
const EVENT_KEYS = ['event_id', 'received_at'];

/** Which of files lack one of the events table's keys, read from their footers in one statement. */
async function lackingKeys(files: string[], rows: LakeRows): Promise<string[]> {
  const sql = (list: string[]) =>
    `SELECT file_name FROM parquet_schema([${list.map(sqlString).join(', ')}]) GROUP BY file_name ` +
    `HAVING count(DISTINCT name) FILTER (WHERE name IN (${EVENT_KEYS.map(sqlString).join(', ')})) < ${EVENT_KEYS.length}`;
  try {
    return (await rows(sql(files))).map((row) => String(row[0]));
  } catch (error) {
    // A file that is not Parquet, or damaged inside, fails the whole statement: the others are
    // read one by one, and a damaged one is left for the query or merge that trips on it.
    if (files.length === 1) throw error;
    const lacking: string[] = [];
    for (const file of files) lacking.push(...(await lackingKeys([file], rows).catch(() => [])));
    return lacking;
  }
}

/**
 * Moves to lake/_rejects/foreign/ each of the events table's files that lacks its keys (a
 * Parquet file of another table copied into a partition, a mart's data.parquet, say), which
 * queries read by name with those columns empty and merges folded into the partition's files for
 * good. checked remembers files found to have them (by path, inode, size and time): each file's
 * footer is read once.
 */
export async function moveForeignEventFiles(
  layout: DataLayout,
  files: readonly string[],
  rows: LakeRows,
  checked: Set<string>,
): Promise<MovedFile[]> {
  const keyOf = (path: string) => {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats && `${path}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  };
  const unchecked = files.filter((path) => {
    const key = keyOf(path);
    return key !== undefined && !checked.has(key);
  });
  if (unchecked.length === 0) return [];
  const foreign = new Set(await lackingKeys(unchecked, rows));
  const moved: MovedFile[] = [];
  for (const path of unchecked) {
    if (!foreign.has(path)) {
      const key = keyOf(path);
      if (key !== undefined) checked.add(key);
      continue;
    }
    try {
      moved.push(moveOut(layout, path, 'foreign'));
    } catch (error) {
      // Moved or merged away meanwhile, by another process: nothing left to keep out.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return moved;
}
