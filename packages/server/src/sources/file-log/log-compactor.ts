import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_MERGE_FILES, partitionFiles, publish, sqlString, syncPath } from '../../lake/index.ts';

// Files at this size are left alone, so each byte is rewritten a bounded number of times.
const TARGET_BYTES = 128 * 1024 * 1024;

/**
 * How log tables are written: row groups of up to 122,880 rows but at most 32 MB of data each (DuckDB
 * honours the bytes only without preserve_insertion_order, as the log writer's instance runs). The
 * writer holds a whole row group and then a buffer as large as a column's chunk: merging 160,000
 * error lines with stack traces (~2 KB each) failed under the 512 MB limit with "Out of Memory" on
 * every try, and the merge was retried after every batch; 32 MB groups: +22–33 MB (docs/benchmarks.md).
 */
export const LOG_PARQUET =
  "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, ROW_GROUP_SIZE_BYTES '32MB'";

/**
 * Finishes or abandons a compaction of `prefix` files that a crash interrupted. The list of inputs
 * is written before the merged file appears: merged file present → the inputs go; absent → nothing
 * happened. Only this writer's own prefix is touched, since other sources share the partition.
 */
export function recoverLogCompaction(dir: string, prefix: string): void {
  if (!existsSync(dir)) return;
  const marker = `.compact-${prefix}`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(marker) || !/^\d/.test(name.slice(marker.length)) || !name.endsWith('.inputs'))
      continue;
    const output = name.slice('.compact-'.length, -'.inputs'.length);
    if (existsSync(join(dir, `${output}.parquet`))) {
      for (const input of JSON.parse(readFileSync(join(dir, name), 'utf8')) as string[])
        if (input !== `${output}.parquet`) rmSync(join(dir, input), { force: true });
    }
    rmSync(join(dir, `.${output}.parquet.tmp`), { force: true });
    rmSync(join(dir, name), { force: true });
  }
}

/**
 * Merges one writer's small files in a partition (files named `<prefix><number>-…`) once minFiles
 * have piled up, into `<prefix><last number>-c.parquet`, which sorts after its inputs and before
 * the next batch. Runs only after the batches involved are checkpointed, so none is retried later.
 */
export async function compactLogPartition(
  connection: DuckDBConnection,
  dir: string,
  prefix: string,
  minFiles: number,
): Promise<{ inputs: number } | undefined> {
  recoverLogCompaction(dir, prefix);
  // The number right after the prefix keeps `web-` from taking `web-intake-…` or another writer's files.
  const own = (name: string) => name.startsWith(prefix) && /^\d/.test(name.slice(prefix.length));
  const candidates = partitionFiles(dir).filter((f) => own(f.name) && f.bytes < TARGET_BYTES);
  if (candidates.length < minFiles) return undefined;
  // Oldest first, at most MAX_MERGE_FILES a merge, as the events' compaction: a backlog is merged in turns.
  const small = candidates.sort((a, b) => (a.name < b.name ? -1 : 1)).slice(0, MAX_MERGE_FILES);
  const last = small
    .map((f) => f.name.slice(prefix.length).split('-')[0] as string)
    .sort()
    .at(-1);
  // A name no file has yet (a merge's own small output can be the newest input): a manifest whose
  // output exists reads as a finished merge, and readers would skip its inputs while it still runs.
  let output = `${prefix}${last}-c`;
  for (let n = 1; existsSync(join(dir, `${output}.parquet`)); n++) output = `${prefix}${last}-c${n}`;
  const tmp = join(dir, `.${output}.parquet.tmp`);
  const manifest = join(dir, `.compact-${output}.inputs`);
  writeFileSync(manifest, JSON.stringify(small.map((f) => f.name)));
  // Its content too, not only its name: after a power cut, recovery must read the inputs to remove.
  syncPath(manifest);
  syncPath(dir);
  await connection.run(
    `COPY (SELECT * FROM read_parquet([${small.map((f) => sqlString(f.path)).join(', ')}], union_by_name=true)) ` +
      `TO ${sqlString(tmp)} (${LOG_PARQUET})`,
  );
  publish(tmp, join(dir, `${output}.parquet`), dir);
  recoverLogCompaction(dir, prefix);
  return { inputs: small.length };
}
