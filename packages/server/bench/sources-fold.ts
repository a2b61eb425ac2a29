// The fold of a wide merge table (bench:sources -- fold): BENCH_FOLD_ROWS rows (3,000,000) of about
// 800 bytes in a first copy and one run of changes, folded by the sources' writer under its default
// 192 MB memory_limit. Prints the time and the process's peak RSS.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLakeTable } from '../src/lake/index.ts';
import { createParquetWriter } from '../src/sources/extractor/parquet-writer.ts';
import { compactTable } from '../src/sources/extractor/table-compaction.ts';

/** Six columns of 128 characters. */
const wide = (seed: string) =>
  Array.from({ length: 6 }, (_, c) => `repeat(md5((${seed})::VARCHAR || '${c}'), 4) AS c${c}`).join(', ');

export async function foldSection() {
  const rows = Number(process.env.BENCH_FOLD_ROWS ?? 3_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'inlet-bench-fold-'));
  try {
    const tableDir = join(dir, 'items');
    mkdirSync(tableDir);
    const generator = await createParquetWriter({ tmpDir: join(dir, 'generator'), memoryLimit: '4GB' });
    // The first copy holds 45 % of the rows; the run after it changes every other key (a tenth of
    // them deleted) and adds new ones, and outweighs it, so the table is folded.
    const first = Math.floor(rows * 0.45);
    await generator.writeSelect(
      `SELECT i AS id, 1 AS version, NULL::TIMESTAMP AS deleted_at, ${wide('i')} FROM range(${first}) t(i)`,
      join(tableDir, 'part-00000001-00000.parquet'),
    );
    await generator.writeSelect(
      `SELECT i * 2 AS id, 2 AS version, CASE WHEN i % 10 = 0 THEN TIMESTAMP '2026-01-01' END AS deleted_at, ${wide('i + 7')} FROM range(${rows - first}) t(i)`,
      join(tableDir, 'part-00000002-00000.parquet'),
    );
    generator.close();
    const manifest = {
      name: 'src.items',
      kind: 'source' as const,
      files: 'part-*.parquet',
      merge: { key: ['id'], order_by: 'version', deleted_column: 'deleted_at' },
    };
    writeLakeTable(tableDir, manifest);
    const writer = await createParquetWriter({ tmpDir: join(dir, 'writer') });
    const base = process.memoryUsage.rss();
    let peak = base;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 50);
    const started = performance.now();
    try {
      const done = await compactTable({ tableDir, manifest, writer, foldMinBytes: 1 });
      console.log(`${rows.toLocaleString('en-US')} rows folded into ${done?.rows.toLocaleString('en-US')}`);
    } catch (error) {
      console.log(`failed: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      clearInterval(sample);
      writer.close();
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${seconds.toFixed(1)} s, peak RSS ${Math.round(peak / 2 ** 20)} MB (+${Math.round((peak - base) / 2 ** 20)} MB)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
