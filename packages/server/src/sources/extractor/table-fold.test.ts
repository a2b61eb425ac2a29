import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSourceHarness, type SourceHarness } from '../../../test/source-harness.ts';
import { type LakeTable, writeLakeTable } from '../../lake/index.ts';
import { createParquetWriter, type ParquetWriter } from './parquet-writer.ts';
import { compactTable } from './table-compaction.ts';

let h: SourceHarness | undefined;
const writers: ParquetWriter[] = [];
afterEach(() => {
  for (const writer of writers.splice(0)) writer.close();
  h?.close();
  h = undefined;
});

async function setup(options: { memoryLimit?: string } = {}) {
  h = await createSourceHarness([]);
  const tableDir = join(h.layout.lake, 'sources', 'src', 'items');
  mkdirSync(tableDir, { recursive: true });
  const generator = await createParquetWriter({ tmpDir: join(h.dir, 'generator'), memoryLimit: '1GB' });
  const writer = await createParquetWriter({
    tmpDir: join(h.dir, 'writer'),
    memoryLimit: options.memoryLimit,
  });
  writers.push(generator, writer);
  /** Writes one run's file of the table. */
  const part = (run: number, select: string) =>
    generator.writeSelect(select, join(tableDir, `part-${String(run).padStart(8, '0')}-00000.parquet`));
  const manifest = (merge: LakeTable['merge']): LakeTable => {
    const table: LakeTable = { name: 'src.items', kind: 'source', files: 'part-*.parquet', merge };
    writeLakeTable(tableDir, table);
    return table;
  };
  /** The rows of the table's current files, as the fold wrote them. */
  const stored = async (sql: string, files: string) =>
    writer.scalar(sql.replace('{files}', `read_parquet('${join(tableDir, files)}', union_by_name=true)`));
  return { harness: h, tableDir, writer, part, manifest, stored };
}

/** Six columns of 128 characters: rows of about 800 bytes. */
const wide = (seed: string) =>
  Array.from({ length: 6 }, (_, c) => `repeat(md5((${seed})::VARCHAR || '${c}'), 4) AS c${c}`).join(', ');

describe('folding a merge table', () => {
  it('folds 100,000 wide rows within a memory_limit that ranking them whole ran out of', async () => {
    const { harness, tableDir, writer, part, manifest } = await setup({ memoryLimit: '128MB' });
    await part(
      1,
      `SELECT i AS id, 1 AS version, NULL::TIMESTAMP AS deleted_at, ${wide('i')} FROM range(45000) t(i)`,
    );
    // A run that changes every other key, deletes a tenth of those, and adds new ones.
    await part(
      2,
      `SELECT i * 2 AS id, 2 AS version, CASE WHEN i % 10 = 0 THEN TIMESTAMP '2026-01-01' END AS deleted_at, ${wide('i + 7')} FROM range(55000) t(i)`,
    );
    const table = manifest({ key: ['id'], order_by: 'version', deleted_column: 'deleted_at' });
    const view =
      'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, sum(version)::INT AS versions, sum(hash(id, c0, c5)) AS checksum FROM src.items';
    const before = await harness.query(view);
    expect(before[0]).toMatchObject({ n: 72000, ids: 72000 });

    const done = await compactTable({
      tableDir,
      manifest: table,
      writer,
      foldMinBytes: 1,
      foldBatchRows: 25000,
    });

    expect(done).toMatchObject({ kind: 'fold', merged: 2, rows: 72000 });
    expect(await harness.query(view)).toEqual(before);
  });

  for (const columns of [['filename'], ['filename', 'file_row_number', 'file_index']]) {
    it(`keeps the version copied last of a table with columns named ${columns.join(', ')}`, async () => {
      const { tableDir, writer, part, manifest, stored } = await setup();
      const own = (value: string) => columns.map((c, i) => `'${value}${i}' AS ${c}`).join(', ');
      // Both runs copied version 1 of key 1 (a merge run reads the last cursor value again); the
      // table's own columns sort the other way round from the files' names.
      await part(1, `SELECT 1 AS id, 1 AS version, 'first' AS note, ${own('z')}`);
      await part(
        2,
        `SELECT 1 AS id, 1 AS version, 'second' AS note, ${own('a')} UNION ALL SELECT 2, 1, 'second', ${own('a')}`,
      );
      const table = manifest({ key: ['id'], order_by: 'version' });

      const done = await compactTable({ tableDir, manifest: table, writer, foldMinBytes: 1 });

      expect(done).toMatchObject({ kind: 'fold', rows: 2 });
      expect(
        await stored(
          `SELECT string_agg(id || ' ' || note || ' ' || ${columns.join(" || ' ' || ")}, '; ' ORDER BY id) FROM {files}`,
          done?.files ?? '',
        ),
      ).toBe(
        `1 second ${columns.map((_, i) => `a${i}`).join(' ')}; 2 second ${columns.map((_, i) => `a${i}`).join(' ')}`,
      );
    });
  }

  it('merges the small files of a table with a filename column, keeping the version copied last', async () => {
    const { tableDir, writer, part, manifest, stored } = await setup();
    await part(1, `SELECT 1 AS id, 1 AS version, 'first' AS note, 'z' AS filename`);
    await part(2, `SELECT 1 AS id, 1 AS version, 'second' AS note, 'a' AS filename`);
    const table = manifest({ key: ['id'], order_by: 'version' });

    const done = await compactTable({ tableDir, manifest: table, writer, minFiles: 2 });

    expect(done).toMatchObject({ kind: 'merge', rows: 1 });
    expect(readdirSync(join(tableDir, 'files-00000001'))).toEqual(['part-00000002-m0000.parquet']);
    expect(
      await stored(`SELECT string_agg(note || ' ' || filename, '; ') FROM {files}`, done?.files ?? ''),
    ).toBe('second a');
  });
});
