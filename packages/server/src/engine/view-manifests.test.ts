import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { writeEvents } from '../../test/lake-fixtures.ts';
import { dataLayout, writeLakeTable } from '../lake/index.ts';
import { createQueryEngine } from './index.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('views defined by SQL in a manifest (view models)', () => {
  it('are created once what they read exists; one that cannot bind never breaks other queries', async () => {
    const config = testConfig(join(temp.dir, 'data'));
    const layout = dataLayout(config.data_dir);
    await writeEvents(layout, [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const view = (name: string, sql: string, depends_on: string[]) => {
      const dir = join(layout.lake, 'marts', name);
      mkdirSync(dir, { recursive: true });
      writeLakeTable(dir, { name, kind: 'mart', files: '', sql, depends_on });
    };
    // Listed before what it reads (alphabetically): it must still come after it.
    view('a_logins_total', 'SELECT count(*)::INT AS n FROM "logins"', ['logins']);
    view('logins', "SELECT * FROM events WHERE name = 'login'", ['events']);
    view('waits_for_logs', 'SELECT * FROM access_logs', ['access_logs']);
    view('broken', 'SELECT no_such_column FROM events', ['events']);
    const engine = await createQueryEngine({ config, layout });
    try {
      expect((await engine.query('SELECT n FROM a_logins_total')).rows).toEqual([[1]]);
      expect((await engine.query('SELECT count(*)::INT FROM events')).rows).toEqual([[1]]);
      // Named, with what it reads that the lake has not (since cf62372; a Catalog Error before).
      await expect(engine.query('SELECT * FROM waits_for_logs')).rejects.toMatchObject({
        code: 'TABLE_UNAVAILABLE',
        message: expect.stringContaining('it reads access_logs, which is not in the lake'),
      });
      // Named, with why: its SQL no longer binds.
      await expect(engine.query('SELECT * FROM broken')).rejects.toMatchObject({
        code: 'TABLE_UNAVAILABLE',
        message: expect.stringContaining('no_such_column'),
      });
      const views = (
        await engine.query('SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1')
      ).rows.flat();
      expect(views).toEqual(['a_logins_total', 'events', 'logins']);
    } finally {
      engine.close();
    }
  });
});
