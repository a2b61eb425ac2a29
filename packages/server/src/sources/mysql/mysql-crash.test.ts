import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectSyncSurvivesKills, TEST_MYSQL_URL, uniqueName } from '../../../test/source-harness.ts';

const db = uniqueName('inlet_crash');
let conn: mysql.Connection;
const ROWS = 150_000;

const insertRows = (from: number, to: number) =>
  conn.query(
    `INSERT INTO ${db}.big SELECT seq, CONCAT('row ', seq, ' 行 ✓'), seq / 100, TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_${from}_to_${to}`,
  );

beforeAll(async () => {
  conn = await mysql.createConnection({ uri: TEST_MYSQL_URL, charset: 'UTF8MB4_UNICODE_CI' });
  await conn.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
  await conn.query(
    `CREATE TABLE ${db}.big (id BIGINT PRIMARY KEY, v VARCHAR(64), amount DECIMAL(12,2), at DATETIME) CHARACTER SET utf8mb4`,
  );
  await conn.query('SET SESSION group_concat_max_len = 1000000000');
  await insertRows(1, ROWS);
});

afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS ${db}`);
  await conn.end();
});

/** The same fingerprint from MariaDB and from the lake: any lost, repeated or changed row shows. */
async function expected() {
  const [rows] = await conn.query(
    `SELECT CAST(count(*) AS CHAR) AS n, CAST(count(DISTINCT id) AS CHAR) AS ids, CAST(sum(id) AS CHAR) AS ids_sum, CAST(sum(amount) AS CHAR) AS amount, md5(group_concat(CONCAT(v, '|', id) ORDER BY id SEPARATOR ',')) AS digest FROM ${db}.big`,
  );
  return (rows as Array<Record<string, string>>)[0];
}
const lake = (table: string) =>
  `SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS ids, sum(id)::VARCHAR AS ids_sum, sum(amount)::VARCHAR AS amount, md5(string_agg(v || '|' || id, ',' ORDER BY id)) AS digest FROM ${table}`;

describe('mysql sync killed with SIGKILL', () => {
  it('loses and repeats nothing, and a full snapshot never shows half a copy', async () => {
    await expectSyncSurvivesKills({
      type: 'mysql',
      url: TEST_MYSQL_URL,
      table: `${db}.big`,
      fingerprint: expected,
      lakeFingerprint: lake,
      addRows: () => insertRows(ROWS + 1, ROWS + 30_000),
    });
  });
});
