import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectSyncSurvivesKills, TEST_PG_URL, uniqueName } from '../../../test/source-harness.ts';

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
    await expectSyncSurvivesKills({
      type: 'postgres',
      url: TEST_PG_URL,
      table: `${schema}.big`,
      fingerprint: async () => (await client.query(FINGERPRINT(`${schema}.big`))).rows[0],
      lakeFingerprint: FINGERPRINT,
      addRows: () => client.query(insertRows(ROWS + 1, ROWS + 50_000)),
    });
  });
});
