import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger, sourceContext, testConfig } from '../../../test/helpers.ts';
import { createSourceHarness, type SourceHarness } from '../../../test/source-harness.ts';
import { createSilentLogger } from '../../log/index.ts';
import { syncTables, type TableJob, type TableTarget } from './index.ts';

let h: SourceHarness | undefined;
afterEach(() => {
  h?.close();
  h = undefined;
});

/** A table whose rows are ids from..to-1, written by DuckDB, with the cursor saved as the max id. */
function rangeJob(target: TableTarget, rows: { from: number; to: number }): TableJob {
  return {
    target,
    async extract(run) {
      const from = typeof run.position === 'string' ? Number(run.position) + 1 : rows.from;
      if (from >= rows.to && !run.writeEmpty) return { rows: 0, position: run.position };
      const n = await run.writer.writeSelect(
        `SELECT range AS id FROM range(${from}, ${rows.to})`,
        run.nextPart(),
      );
      return { rows: n, position: target.cursor ? ((await run.maxOf('id')) ?? run.position) : undefined };
    },
  };
}

async function setup() {
  h = await createSourceHarness([]);
  const harness = h;
  /** Syncs jobs as the source src. */
  const sync = (jobs: TableJob[], signal = new AbortController().signal, logger = createSilentLogger()) =>
    syncTables({
      source: 'src',
      context: sourceContext(testConfig(harness.dir), harness.state, { signal, logger }),
      jobs,
    });
  const tableDir = (name: string) => join(harness.layout.lake, 'sources', 'src', name);
  return { harness, sync, tableDir };
}

const incremental: TableTarget = { name: 'ids', mode: 'incremental', cursor: 'id' };

describe('table sync', () => {
  it('removes what an interrupted incremental run published before its cursor was saved', async () => {
    const { harness, sync, tableDir } = await setup();
    await sync([rangeJob(incremental, { from: 0, to: 100 })]);
    // As if run 2 had published a file and a staging directory, then died before saving its cursor.
    copyFileSync(
      join(tableDir('ids'), 'part-00000001-00000.parquet'),
      join(tableDir('ids'), 'part-00000002-00000.parquet'),
    );
    mkdirSync(join(tableDir('ids'), '.run-00000002'));
    writeFileSync(join(tableDir('ids'), '.run-00000002', 'part-00000002-00001.parquet'), 'half');
    const result = await sync([rangeJob(incremental, { from: 0, to: 150 })]);
    expect(result.rows).toBe(50);
    expect(readdirSync(tableDir('ids')).sort()).toEqual([
      '_table.json',
      'part-00000001-00000.parquet',
      'part-00000002-00000.parquet',
    ]);
    expect(
      await harness.query(
        'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, max(id)::INT AS top FROM src.ids',
      ),
    ).toEqual([{ n: 150, ids: 150, top: 149 }]);
  });

  it('starts a table over when its mode changes, and keeps an empty table visible with its columns', async () => {
    const { harness, sync, tableDir } = await setup();
    await sync([rangeJob(incremental, { from: 0, to: 10 })]);
    await sync([rangeJob({ name: 'ids', mode: 'full' }, { from: 0, to: 0 })]);
    expect(readdirSync(tableDir('ids')).sort()).toEqual(['_table.json', 'snapshot-00000001']);
    expect(await harness.query('SELECT count(*)::INT AS n FROM src.ids')).toEqual([{ n: 0 }]);
    // The same options again are not a change: the next snapshot follows the last one.
    await sync([rangeJob({ name: 'ids', mode: 'full', cursor: 'id' }, { from: 0, to: 3 })]);
    await sync([rangeJob({ name: 'ids', mode: 'full', cursor: 'id' }, { from: 0, to: 3 })]);
    expect(readdirSync(tableDir('ids')).sort()).toEqual(['_table.json', 'snapshot-00000003']);
  });

  it('says in its warning which of the mode, cursor and primary key changed', async () => {
    // It said was=incremental now=incremental of a table whose cursor changed.
    const { sync } = await setup();
    const changes = async (target: TableTarget) => {
      const { logger, lines } = capturingLogger<{ changed?: string }>('warn');
      await sync([rangeJob(target, { from: 0, to: 3 })], undefined, logger);
      return lines.map((line) => [line.msg, line.changed]);
    };
    const again = 'the mode, cursor or primary key of this table changed; copying it again from the start';
    expect(await changes(incremental)).toEqual([]);
    expect(await changes({ ...incremental, cursor: 'updated_at' })).toEqual([
      [again, 'cursor id → updated_at'],
    ]);
    expect(await changes({ ...incremental, mode: 'merge', primaryKey: ['id'] })).toEqual([
      [again, 'mode incremental → merge; cursor updated_at → id; primary_key (none) → id'],
    ]);
    expect(await changes({ name: 'ids', mode: 'full', cursor: 'id' })).toEqual([
      [again, 'mode merge → full'],
    ]);
    expect(await changes({ name: 'ids', mode: 'full' })).toEqual([]);
  });

  it('keeps a table and its cursor when the copy in a changed mode fails, and replaces them when one succeeds', async () => {
    // A cursor misspelt while switching a table to merge failed the run, and the table was gone
    // from the lake (files and cursor removed before the copy), where a failed table keeps its rows.
    const { harness, sync, tableDir } = await setup();
    await sync([rangeJob(incremental, { from: 0, to: 10 })]);
    const misspelt: TableJob = {
      target: { name: 'ids', mode: 'merge', cursor: 'idd', primaryKey: ['id'] },
      async extract() {
        throw new Error('cursor "idd" is not a column of the result');
      },
    };
    await expect(sync([misspelt])).rejects.toThrow(/cursor "idd" is not a column/);
    expect(await harness.query('SELECT count(*)::INT AS n FROM src.ids')).toEqual([{ n: 10 }]);
    // The table's own mode again goes on from its cursor.
    expect((await sync([rangeJob(incremental, { from: 0, to: 15 })])).rows).toBe(5);
    expect(await harness.query('SELECT count(*)::INT AS n FROM src.ids')).toEqual([{ n: 15 }]);
    await sync([
      rangeJob({ name: 'ids', mode: 'merge', cursor: 'id', primaryKey: ['id'] }, { from: 0, to: 4 }),
    ]);
    expect(await harness.query('SELECT count(*)::INT AS n FROM src.ids')).toEqual([{ n: 4 }]);
    expect(readdirSync(tableDir('ids')).sort()).toEqual(['_table.json', 'part-00000001-00000.parquet']);
  });

  it('refuses a second sync of the same source while one runs, and stops at a safe point when cancelled', async () => {
    const { harness, sync } = await setup();
    const abort = new AbortController();
    let release = () => {};
    let started = () => {};
    const extracting = new Promise<void>((resolve) => {
      started = resolve;
    });
    const slow: TableJob = {
      target: { name: 'slow', mode: 'full' },
      async extract(run) {
        await new Promise<void>((resolve) => {
          release = resolve;
          started();
        });
        return { rows: await run.writer.writeSelect('SELECT 1 AS id', run.nextPart()) };
      },
    };
    const running = sync([slow, rangeJob(incremental, { from: 0, to: 5 })], abort.signal);
    // Until the first table is being extracted (a fixed wait was too short on a slow machine).
    await extracting;
    await expect(sync([])).rejects.toMatchObject({
      code: 'SYNC_BUSY',
    });
    abort.abort();
    release();
    await expect(running).rejects.toMatchObject({ code: 'SYNC_CANCELLED' });
    // The table finished before the cancel is kept; the next one was not started.
    expect(await harness.query('SELECT count(*)::INT AS n FROM src.slow')).toEqual([{ n: 1 }]);
    expect(harness.state.getCheckpoint('source:src', 'ids')).toBeUndefined();
    // The lock went with the run.
    await sync([rangeJob(incremental, { from: 0, to: 5 })]);
  });
});
