import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSourceHarness,
  killSyncMidway,
  stagedParts,
  TEST_PG_URL,
  uniqueName,
} from '../../../test/source-harness.ts';

const schema = uniqueName('inlet_crash');
const client = new pg.Client({ connectionString: TEST_PG_URL });
const ROWS = 200_000;

beforeAll(async () => {
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(
    `CREATE TABLE ${schema}.big (id bigint PRIMARY KEY, v text, amount numeric(12,2), at timestamptz)`,
  );
  await client.query(insertRows(1, ROWS));
});

afterAll(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

function insertRows(from: number, to: number) {
  return `INSERT INTO ${schema}.big SELECT i, 'row ' || i || ' 行 ✓', i / 100.0, timestamptz '2026-01-01' + i * interval '1 second' FROM generate_series(${from}, ${to}) AS i`;
}

/** The same fingerprint computed by PostgreSQL and by the lake: any lost, repeated or changed row shows. */
const FINGERPRINT = (table: string) =>
  `SELECT count(*)::bigint::text AS n, count(DISTINCT id)::bigint::text AS ids, sum(id)::text AS ids_sum, sum(amount)::text AS amount, md5(string_agg(v || '|' || id, ',' ORDER BY id)) AS digest FROM ${table}`;

describe('postgres sync killed with SIGKILL', () => {
  it('loses and repeats nothing: the retried sync leaves exact counts and values, and a full snapshot never shows half a copy', async () => {
    const sources = [
      {
        name: 'crash',
        type: 'postgres',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        url: '${INLET_CRASH_URL}',
        part_size_mb: 1,
        tables: [
          { table: `${schema}.big`, name: 'big_inc', mode: 'incremental', cursor: 'id' },
          { table: `${schema}.big`, name: 'big_full' },
        ],
      },
    ];
    const h = await createSourceHarness(sources.map((s) => ({ ...s, url: TEST_PG_URL })));
    const configPath = join(h.dir, 'inlet.yaml');
    writeFileSync(configPath, JSON.stringify({ data_dir: h.dir, sources }));
    const env = { INLET_CRASH_URL: TEST_PG_URL };
    const expected = async () => (await client.query(FINGERPRINT(`${schema}.big`))).rows[0];
    try {
      // Killed while the incremental table is half staged: nothing of it is committed.
      const first = await killSyncMidway({
        configPath,
        source: 'crash',
        env,
        midway: () => stagedParts(h.layout.lake, 'crash', 'big_inc') >= 2,
      });
      expect(first, 'the sync finished before it could be killed; make the table bigger').toBe(true);
      expect(h.state.getCheckpoint('source:crash', 'big_inc')).toBeUndefined();
      await h.sync('crash');
      const before = await expected();
      expect(await h.query(FINGERPRINT('crash.big_inc'))).toEqual([before]);
      expect(await h.query(FINGERPRINT('crash.big_full'))).toEqual([before]);

      // More rows, then killed while the full snapshot is being rewritten: the old snapshot stays whole.
      await client.query(insertRows(ROWS + 1, ROWS + 50_000));
      const second = await killSyncMidway({
        configPath,
        source: 'crash',
        env,
        midway: () => stagedParts(h.layout.lake, 'crash', 'big_full') >= 2,
      });
      expect(second, 'the sync finished before it could be killed; make the table bigger').toBe(true);
      expect(await h.query(FINGERPRINT('crash.big_full'))).toEqual([before]);
      const after = await expected();
      expect(await h.query(FINGERPRINT('crash.big_inc'))).toEqual([after]);

      await h.sync('crash');
      expect(await h.query(FINGERPRINT('crash.big_inc'))).toEqual([after]);
      expect(await h.query(FINGERPRINT('crash.big_full'))).toEqual([after]);
    } finally {
      h.close();
    }
  });
});
