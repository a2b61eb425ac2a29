import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger, sourceContext, testConfig } from '../../../test/helpers.ts';
import { createSourceHarness, type SourceHarness } from '../../../test/source-harness.ts';
import { readLakeTable } from '../../lake/index.ts';
import { syncTables, type TableJob, type TableTarget } from './index.ts';
import { createParquetWriter, type ParquetWriter } from './parquet-writer.ts';
import { compactTable } from './table-compaction.ts';
import { syncTable } from './table-sync.ts';

let h: SourceHarness | undefined;
afterEach(() => {
  h?.close();
  h = undefined;
});

interface Row {
  id: number;
  version: number;
  deleted_at?: string;
}

/** A table whose source is `rows`: each run copies the rows whose version is above the saved cursor. */
function versionsJob(target: TableTarget, rows: Row[]): TableJob {
  return {
    target,
    async extract(run) {
      const after = typeof run.position === 'string' ? Number(run.position) : -1;
      const fresh = rows.filter((r) => r.version > after);
      if (fresh.length === 0) return { rows: 0, position: run.position };
      const values = fresh
        .map(
          (r) =>
            `(${r.id}, ${r.version}, ${r.deleted_at ? `TIMESTAMP '${r.deleted_at}'` : 'NULL::TIMESTAMP'})`,
        )
        .join(', ');
      const n = await run.writer.writeSelect(
        `SELECT * FROM (VALUES ${values}) t(id, version, deleted_at)`,
        run.nextPart(),
      );
      return { rows: n, position: (await run.maxOf('version')) ?? run.position };
    },
  };
}

/** One merge run after each change: the row's version goes past every other, and it is deleted where asked. */
async function syncChanges(
  sync: (job: TableJob) => Promise<unknown>,
  rows: Row[],
  changes: ReadonlyArray<readonly [id: number, deleted: boolean]>,
) {
  let version = Math.max(...rows.map((r) => r.version));
  for (const [id, deleted] of changes) {
    const row = rows[id - 1] as Row;
    row.version = ++version;
    if (deleted) row.deleted_at = '2026-01-01 00:00:00';
    await sync(versionsJob(merge, rows));
  }
}

async function setup() {
  h = await createSourceHarness([]);
  const harness = h;
  const context = sourceContext(testConfig(harness.dir), harness.state);
  const tableDir = join(harness.layout.lake, 'sources', 'src', 'items');
  const sync = (job: TableJob) => syncTables({ source: 'src', context, jobs: [job] });
  /** Every Parquet file of the table, relative to its directory. */
  const files = () =>
    readdirSync(tableDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.parquet'))
      .sort();
  /** Runs use with a Parquet writer (DuckDB) of its own, and closes the writer after. */
  const withWriter = async <T>(use: (writer: ParquetWriter) => Promise<T>): Promise<T> => {
    const writer = await createParquetWriter({ tmpDir: join(harness.dir, 'writer') });
    try {
      return await use(writer);
    } finally {
      writer.close();
    }
  };
  /** compactTable over the table's manifest as it is now. */
  const compact = (
    writer: ParquetWriter,
    options: Omit<Parameters<typeof compactTable>[0], 'tableDir' | 'manifest' | 'writer'>,
  ) => {
    const manifest = readLakeTable(tableDir);
    if (!manifest) throw new Error('no manifest');
    return compactTable({ tableDir, manifest, writer, ...options });
  };
  return { harness, tableDir, sync, files, withWriter, compact };
}

const incremental: TableTarget = { name: 'items', mode: 'incremental', cursor: 'version' };
const merge: TableTarget = {
  name: 'items',
  mode: 'merge',
  cursor: 'version',
  primaryKey: ['id'],
  deletedColumn: 'deleted_at',
};

describe('compaction of increments', () => {
  it("merges an incremental table's small files once there are eight, without losing or repeating a row", async () => {
    const { harness, tableDir, sync, files } = await setup();
    const rows: Row[] = [];
    for (let run = 1; run <= 10; run++) {
      for (let i = 0; i < 5; i++) rows.push({ id: rows.length, version: rows.length });
      await sync(versionsJob(incremental, rows));
      if (run === 7) expect(files()).toHaveLength(7);
    }
    // Runs 1–8 became one file at run 8; runs 9 and 10 came after it.
    expect(files()).toEqual([
      'files-00000001/part-00000008-m0000.parquet',
      'files-00000001/part-00000009-00000.parquet',
      'files-00000001/part-00000010-00000.parquet',
    ]);
    expect(readLakeTable(tableDir)?.files).toBe('files-00000001/part-*.parquet');
    expect(
      await harness.query(
        'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, max(id)::INT AS top FROM src.items',
      ),
    ).toEqual([{ n: 50, ids: 50, top: 49 }]);
    // A run with nothing new adds nothing.
    await sync(versionsJob(incremental, rows));
    expect(files()).toHaveLength(3);
  });

  it('keeps the newest version per key of a merge table, and what the view shows is unchanged', async () => {
    const { harness, sync, files, withWriter } = await setup();
    const rows: Row[] = [];
    let version = 0;
    const change = (id: number, deleted_at?: string) => {
      const at = rows.findIndex((r) => r.id === id);
      const row = { id, version: ++version, ...(deleted_at ? { deleted_at } : {}) };
      if (at >= 0) rows[at] = row;
      else rows.push(row);
    };
    for (let id = 1; id <= 20; id++) change(id);
    await sync(versionsJob(merge, rows));
    const shown: Array<Array<Record<string, unknown>>> = [];
    for (let run = 2; run <= 9; run++) {
      change(1);
      change(run + 10);
      if (run === 5) change(3, '2026-01-01 00:00:00');
      await sync(versionsJob(merge, rows));
      shown.push(await harness.query('SELECT id, version FROM src.items ORDER BY id'));
    }
    expect(files()).toEqual([
      'files-00000001/part-00000008-m0000.parquet',
      'files-00000001/part-00000009-00000.parquet',
    ]);
    const live = rows.filter((r) => !r.deleted_at).map((r) => ({ id: r.id, version: r.version }));
    expect(shown.at(-1)).toEqual(live.sort((a, b) => a.id - b.id));
    // 20 keys merged into 20 rows (the deleted one's newest version kept), then run 9's two changes.
    const dir = join(harness.layout.lake, 'sources', 'src', 'items', 'files-00000001');
    await withWriter(async (writer) => {
      expect(await writer.scalar(`SELECT count(*) FROM read_parquet('${dir}/*.parquet')`)).toBe('22');
    });
  });

  it("keeps a deleted row's newest version when an older one sits in a file that is not merged", async () => {
    const { harness, tableDir, sync, files, withWriter, compact } = await setup();
    const rows: Row[] = [];
    for (let id = 1; id <= 1000; id++) rows.push({ id, version: id });
    await sync(versionsJob(merge, rows));
    // Three more runs: row 1 changes, row 2 is deleted, row 1 changes again.
    await syncChanges(sync, rows, [
      [1, false],
      [2, true],
      [1, false],
    ]);
    expect(files()).toHaveLength(4);
    // The first file counts as large here, so only the three increments are merged.
    const first = statSync(join(tableDir, 'part-00000001-00000.parquet')).size;
    await withWriter(async (writer) => {
      expect(await compact(writer, { minFiles: 3, smallFileBytes: first })).toMatchObject({
        merged: 3,
        rows: 2,
      });
    });
    expect(files()).toEqual([
      'files-00000001/part-00000001-00000.parquet',
      'files-00000001/part-00000004-m0000.parquet',
    ]);
    expect(
      await harness.query(
        'SELECT count(*)::INT AS n, max(version)::INT AS top, count(*) FILTER (id = 2)::INT AS two FROM src.items',
      ),
    ).toEqual([{ n: 999, top: 1003, two: 0 }]);
  });

  it('folds a merge table whole once its history outgrows it: one row per live key, deleted rows gone', async () => {
    const { harness, sync, files, withWriter, compact } = await setup();
    const rows: Row[] = [];
    for (let id = 1; id <= 10; id++) rows.push({ id, version: id });
    await sync(versionsJob(merge, rows));
    await syncChanges(sync, rows, [
      [1, false],
      [2, true],
      [1, false],
      [3, false],
    ]);
    let version = 14;
    await withWriter(async (writer) => {
      const foldable = () => compact(writer, { foldMinBytes: 1 });
      // Four files since the first copy hold more bytes than it: folded.
      expect(await foldable()).toMatchObject({ kind: 'fold', merged: 5, rows: 9 });
      expect(files()).toEqual(['files-00000001/part-00000005-f0000.parquet']);
      expect(await harness.query('SELECT id, version FROM src.items WHERE id <= 3 ORDER BY id')).toEqual([
        { id: 1, version: 13 },
        { id: 3, version: 14 },
      ]);
      expect(await harness.query('SELECT count(*)::INT AS n FROM src.items')).toEqual([{ n: 9 }]);
      // A folded table is not folded again until new files outweigh it.
      expect(await foldable()).toBeUndefined();
      // Every row deleted: the fold keeps an empty file, so the table and its columns stay.
      for (const row of rows) {
        row.version = ++version;
        row.deleted_at = '2026-01-02 00:00:00';
      }
      await sync(versionsJob(merge, rows));
      await sync(versionsJob(merge, rows));
      expect(await foldable()).toMatchObject({ kind: 'fold', rows: 0 });
      expect(files()).toEqual(['files-00000002/part-00000006-f0000.parquet']);
      expect(await harness.query('SELECT count(*)::INT AS n FROM src.items')).toEqual([{ n: 0 }]);
      expect((await harness.query('DESCRIBE src.items')).map((c) => c.column_name)).toEqual([
        'id',
        'version',
        'deleted_at',
      ]);
    });
  });

  it('keeps the small files of a compaction that runs out of memory, saying what to raise in the configuration file read', async () => {
    // The warning said "in inlet.yaml" whatever file --config had named.
    const { harness, files, withWriter } = await setup();
    const { logger, lines } = capturingLogger('warn');
    const config = { ...testConfig(harness.dir), configPath: join(harness.dir, 'prod.yaml') };
    const context = sourceContext(config, harness.state, { logger });
    const rows: Row[] = [];
    await withWriter(async (writer) => {
      // The run's own file is written; the merged one fails as DuckDB does at the source's memory_limit.
      const starved: ParquetWriter = {
        ...writer,
        async writeSelect(select, outPath) {
          if (outPath.includes(`${sep}.files-`))
            throw new Error(
              'Out of Memory Error: failed to allocate data of size 16.0 MiB (192.0 MiB/192.0 MiB used)',
            );
          return writer.writeSelect(select, outPath);
        },
      };
      for (let run = 1; run <= 8; run++) {
        rows.push({ id: run, version: run });
        await syncTable({
          source: 'src',
          job: versionsJob(incremental, rows),
          context,
          writer: starved,
          onRows() {},
        });
      }
    });
    expect(files()).toHaveLength(8);
    expect(lines.map((line) => line.msg)).toEqual([
      'compacting the table\'s increments ran out of the source\'s memory_limit; its files stay as they are: set a larger memory_limit (e.g. 1GB) on source "src" in prod.yaml',
    ]);
  });

  it('clears what an interrupted compaction or run left, and the next runs add to the compacted files', async () => {
    const { harness, tableDir, sync, files } = await setup();
    const rows: Row[] = [];
    for (let run = 1; run <= 8; run++) {
      rows.push({ id: run, version: run });
      await sync(versionsJob(incremental, rows));
    }
    const current = join(tableDir, 'files-00000001');
    expect(readdirSync(current)).toEqual(['part-00000008-m0000.parquet']);
    // A compaction that died before its rename, one that died before the manifest switch, a top-level
    // file the switch had yet to remove, and a run 9 that published but did not save its cursor.
    mkdirSync(join(tableDir, '.files-00000003'));
    writeFileSync(join(tableDir, '.files-00000003', 'part-00000008-m0000.parquet'), 'half');
    mkdirSync(join(tableDir, 'files-00000002'));
    copyFileSync(
      join(current, 'part-00000008-m0000.parquet'),
      join(tableDir, 'files-00000002', 'part-00000008-m0000.parquet'),
    );
    copyFileSync(join(current, 'part-00000008-m0000.parquet'), join(tableDir, 'part-00000007-00000.parquet'));
    copyFileSync(join(current, 'part-00000008-m0000.parquet'), join(current, 'part-00000009-00000.parquet'));
    rows.push({ id: 9, version: 9 });
    await sync(versionsJob(incremental, rows));
    expect(existsSync(join(tableDir, '.files-00000003'))).toBe(false);
    expect(files()).toEqual([
      'files-00000001/part-00000008-m0000.parquet',
      'files-00000001/part-00000009-00000.parquet',
    ]);
    expect(
      await harness.query('SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM src.items'),
    ).toEqual([{ n: 9, ids: 9 }]);
    // A manifest lost or damaged (a disk error, a hand edit) does not lose the compacted files.
    writeFileSync(join(tableDir, '_table.json'), '{"name": "src.it');
    rows.push({ id: 10, version: 10 });
    await sync(versionsJob(incremental, rows));
    expect(files()).toEqual([
      'files-00000001/part-00000008-m0000.parquet',
      'files-00000001/part-00000009-00000.parquet',
      'files-00000001/part-00000010-00000.parquet',
    ]);
    // Five more runs make eight small files again: merged into the next directory.
    for (let run = 11; run <= 15; run++) {
      rows.push({ id: run, version: run });
      await sync(versionsJob(incremental, rows));
    }
    expect(files()).toEqual(['files-00000002/part-00000015-m0000.parquet']);
    expect(
      await harness.query('SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM src.items'),
    ).toEqual([{ n: 15, ids: 15 }]);
  });
});
