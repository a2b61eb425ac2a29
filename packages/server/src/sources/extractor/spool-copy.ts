import type { ColumnPlan } from './column-plan.ts';
import { createCsvSpool } from './csv-spool.ts';
import type { TableRun } from './table-sync.ts';

/**
 * Copies a source's CSV stream into the run's Parquet parts: the bytes are spooled to disk and each
 * spool file is converted by DuckDB while the next one fills. Returns the rows written.
 */
export async function copyCsvStream(
  run: TableRun,
  columns: ColumnPlan[],
  chunks: AsyncIterable<Buffer>,
  partBytes: number,
): Promise<number> {
  let rows = 0;
  const spool = createCsvSpool({
    dir: run.tmpDir,
    partBytes,
    async onFile(path, { empty }) {
      if (empty && !run.writeEmpty) return;
      rows += await run.writer.writeCsv(path, columns, run.nextPart());
      run.progress(rows);
    },
  });
  try {
    for await (const chunk of chunks) await spool.write(chunk);
    await spool.end();
  } catch (error) {
    await spool.abort();
    throw error;
  }
  return rows;
}
