import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { removeOwnFile } from '../remove-own-file.ts';
import { type PartitionFile, partitionFiles, publishAsync, readOwnFile, syncPath } from './files.ts';
import { mergeIdFilters, readIdFilterAsync, removeIdFilter, writeIdFilterAsync } from './id-filter.ts';
import { sqlString } from './layout.ts';

const TARGET_BYTES = 128 * 1024 * 1024;
/**
 * A merged file's row groups: up to DuckDB's default of 122,880 rows, but at most 32 MB of data each
 * (DuckDB honours the bytes only without preserve_insertion_order, as the loader runs). The writer
 * holds a whole row group in memory: merging 1.2 M varied events (12 files), 122,880-row groups
 * peaked at +286–300 MB and took 10.6–12.3 s; 32 MB groups (~30,000 rows) +122–126 MB and
 * 5.4–5.8 s, for the same file size and the same query times (docs/benchmarks.md).
 */
const COMPACT_ROW_GROUPS = "ROW_GROUP_SIZE 122880, ROW_GROUP_SIZE_BYTES '32MB'";
const MANIFEST = /^\.compact-(.+)\.inputs$/;
/**
 * The most files one merge reads: DuckDB holds a reader, its buffers and an open file for each, and
 * the id filters of all are merged in memory. A backlog of more (a lake from before compaction, a
 * low compact_min_files) is merged 128 at a time, oldest first.
 */
export const MAX_MERGE_FILES = 128;

/** The name of a file of the partition a merge may have read: no path, no dot file. */
const INPUT_NAME = /^[^./\\][^/\\]*\.parquet$/;

/**
 * The names a merge manifest lists, undefined when it is no list of such names (damaged on disk):
 * one with a path ("../../../state.sqlite") or an empty name had recovery remove that path.
 */
function manifestInputs(manifest: string): string[] | undefined {
  try {
    const inputs: unknown = JSON.parse(readOwnFile(manifest));
    return Array.isArray(inputs) &&
      inputs.every((input) => typeof input === 'string' && INPUT_NAME.test(input))
      ? inputs
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finishes or abandons a compaction that a crash interrupted. The manifest is written before the
 * merged file appears, so: merged file present → its inputs must go; absent → nothing happened.
 * Returns the manifests of finished merges that cannot be read, which are left as they are: which
 * files such a merge read is unknown, and one made inlet start fail as an error it did not foresee.
 */
export function recoverCompaction(dir: string): string[] {
  const damaged: string[] = [];
  if (!existsSync(dir)) return damaged;
  for (const name of readdirSync(dir)) {
    const match = MANIFEST.exec(name);
    if (!match) continue;
    const manifest = join(dir, name);
    const output = join(dir, `${match[1]}.parquet`);
    if (existsSync(output)) {
      const inputs = manifestInputs(manifest);
      if (inputs === undefined) {
        damaged.push(manifest);
        continue;
      }
      for (const input of inputs) {
        rmSync(join(dir, input), { force: true });
        removeIdFilter(join(dir, input));
      }
    } else {
      removeIdFilter(output);
    }
    removeOwnFile(join(dir, `.${match[1]}.parquet.tmp`), 'a merged file being written, which a crash left');
    removeOwnFile(manifest, "the list of a merge's inputs, which a crash left");
  }
  return damaged;
}

/** How many merges a file's rows went through: 0 for a segment's part-, 1 for c-, n for c<n>-. */
function levelOf(name: string): number {
  const match = /^c(\d*)-/.exec(name);
  return match ? Number(match[1] || 1) : 0;
}

/**
 * Merges small files of one partition, level by level: when minFiles files of the lowest level
 * have piled up, those (and only those) become one file of the next level. A merged file is not
 * merged again with each new segment's file, which under steady traffic rewrote the day's growing
 * file over and over (its time and memory grew through the day); each row is rewritten once per
 * level instead, and a partition keeps fewer than minFiles files a level. Files at the target size
 * are left alone. At most MAX_MERGE_FILES are merged at a time. The loader already removed repeats,
 * so this is a plain streaming merge.
 */
export async function compactPartition(
  connection: DuckDBConnection,
  dir: string,
  minFiles: number,
): Promise<{ inputs: number; rows: number } | undefined> {
  // Not while a finished merge's manifest cannot be read: its merged file and inputs would be merged
  // together for good, their rows twice, where moving one out still puts the partition right.
  if (recoverCompaction(dir).length > 0) return undefined;
  const levels = new Map<number, PartitionFile[]>();
  for (const file of partitionFiles(dir)) {
    if (file.bytes >= TARGET_BYTES) continue;
    const level = levelOf(file.name);
    levels.set(level, [...(levels.get(level) ?? []), file]);
  }
  const level = [...levels.keys()]
    .sort((a, b) => a - b)
    .find((l) => (levels.get(l)?.length ?? 0) >= minFiles);
  if (level === undefined) return undefined;
  const small = (levels.get(level) as PartitionFile[]).slice(0, MAX_MERGE_FILES);
  const last = small
    .map((f) => f.name.replace(/^(part|c\d*)-/, '').replace(/\.parquet$/, ''))
    .sort()
    .at(-1) as string;
  // The output needs a name no file has yet: recovery takes an existing output for a finished merge.
  const prefix = level === 0 ? 'c' : `c${level + 1}`;
  let outName = `${prefix}-${last}`;
  for (let n = 1; existsSync(join(dir, `${outName}.parquet`)); n++) outName = `${prefix}-${last}-${n}`;
  const manifest = join(dir, `.compact-${outName}.inputs`);
  const tmp = join(dir, `.${outName}.parquet.tmp`);
  writeFileSync(manifest, JSON.stringify(small.map((f) => f.name)));
  // Its content too, not only its name: after a power cut, recovery must read the inputs to remove.
  syncPath(manifest);
  syncPath(dir);
  // The merged file's id filter is the union of its inputs', when each has one (see id-filter.ts).
  const filters = await Promise.all(small.map((f) => readIdFilterAsync(f.path)));
  const output = join(dir, `${outName}.parquet`);
  // Merged while DuckDB copies on its own threads; the filter is in place before the file appears.
  const filterWritten = filters.every((f) => f !== undefined)
    ? mergeIdFilters(filters).then((merged) => writeIdFilterAsync(output, merged))
    : Promise.resolve(removeIdFilter(output));
  // Both settled before either's failure is thrown: a copy that failed at once (a file it may not
  // read) left the filter being written, and the merge tried again at once wrote the same .ids.tmp
  // beside it, one rename then failing with ENOENT, or the first filter landing over the second's.
  const [copied, filtered] = await Promise.allSettled([
    connection.runAndReadAll(
      `COPY (SELECT * FROM read_parquet([${small.map((f) => sqlString(f.path)).join(', ')}], union_by_name=true)) ` +
        `TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ${COMPACT_ROW_GROUPS})`,
    ),
    filterWritten,
  ]);
  if (copied.status === 'rejected') {
    // The filter of a file that was never made is no filter of any: the next merge writes its own.
    removeIdFilter(output);
    throw copied.reason;
  }
  if (filtered.status === 'rejected') throw filtered.reason;
  const reader = copied.value;
  await publishAsync(tmp, output, dir);
  recoverCompaction(dir);
  return { inputs: small.length, rows: Number(reader.getRows()[0]?.[0] ?? 0) };
}
