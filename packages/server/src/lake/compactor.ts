import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type PartitionFile, partitionFiles, publish, syncPath } from './files.ts';
import { mergeIdFilters, readIdFilter, removeIdFilter, writeIdFilter } from './id-filter.ts';
import { sqlString } from './layout.ts';

const TARGET_BYTES = 128 * 1024 * 1024;
const MANIFEST = /^\.compact-(.+)\.inputs$/;

/**
 * Finishes or abandons a compaction that a crash interrupted. The manifest is written before the
 * merged file appears, so: merged file present → its inputs must go; absent → nothing happened.
 */
export function recoverCompaction(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const match = MANIFEST.exec(name);
    if (!match) continue;
    const manifest = join(dir, name);
    const output = join(dir, `${match[1]}.parquet`);
    if (existsSync(output)) {
      for (const input of JSON.parse(readFileSync(manifest, 'utf8')) as string[]) {
        rmSync(join(dir, input), { force: true });
        removeIdFilter(join(dir, input));
      }
    } else {
      removeIdFilter(output);
    }
    rmSync(join(dir, `.${match[1]}.parquet.tmp`), { force: true });
    rmSync(manifest, { force: true });
  }
}

/**
 * Merges the small files of one partition into one when at least minFiles of them have piled up;
 * files already at the target size are left alone, so each byte is rewritten a bounded number of
 * times. The loader already removed repeats, so this is a plain streaming merge.
 */
export async function compactPartition(
  connection: DuckDBConnection,
  dir: string,
  minFiles: number,
): Promise<{ inputs: number; rows: number } | undefined> {
  recoverCompaction(dir);
  const small = partitionFiles(dir).filter((f: PartitionFile) => f.bytes < TARGET_BYTES);
  if (small.length < minFiles) return undefined;
  const last = small
    .map((f) => f.name.replace(/^(part|c)-/, '').replace(/\.parquet$/, ''))
    .sort()
    .at(-1) as string;
  // The output needs a name no file has yet: recovery takes an existing output for a finished merge.
  let outName = `c-${last}`;
  for (let n = 1; existsSync(join(dir, `${outName}.parquet`)); n++) outName = `c-${last}-${n}`;
  const manifest = join(dir, `.compact-${outName}.inputs`);
  const tmp = join(dir, `.${outName}.parquet.tmp`);
  writeFileSync(manifest, JSON.stringify(small.map((f) => f.name)));
  syncPath(dir);
  // The merged file's id filter is the union of its inputs', when each has one (see id-filter.ts).
  const filters = small.map((f) => readIdFilter(f.path));
  const output = join(dir, `${outName}.parquet`);
  if (filters.every((f) => f !== undefined)) writeIdFilter(output, mergeIdFilters(filters));
  else removeIdFilter(output);
  const reader = await connection.runAndReadAll(
    `COPY (SELECT * FROM read_parquet([${small.map((f) => sqlString(f.path)).join(', ')}], union_by_name=true)) ` +
      `TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
  );
  publish(tmp, output, dir);
  recoverCompaction(dir);
  return { inputs: small.length, rows: Number(reader.getRows()[0]?.[0] ?? 0) };
}
