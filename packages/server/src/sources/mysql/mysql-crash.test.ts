import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSourceHarness,
  killSyncMidway,
  stagedParts,
  TEST_MYSQL_URL,
  uniqueName,
} from '../../../test/source-harness.ts';

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
    const sources = [
      {
        name: 'crash',
        type: 'mysql',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        url: '${INLET_CRASH_URL}',
        part_size_mb: 1,
        tables: [
          { table: `${db}.big`, name: 'big_inc', mode: 'incremental', cursor: 'id' },
          { table: `${db}.big`, name: 'big_full' },
        ],
      },
    ];
    const h = await createSourceHarness(sources.map((s) => ({ ...s, url: TEST_MYSQL_URL })));
    const configPath = join(h.dir, 'inlet.yaml');
    writeFileSync(configPath, JSON.stringify({ data_dir: h.dir, sources }));
    const env = { INLET_CRASH_URL: TEST_MYSQL_URL };
    try {
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
      expect(await h.query(lake('crash.big_inc'))).toEqual([before]);
      expect(await h.query(lake('crash.big_full'))).toEqual([before]);

      await insertRows(ROWS + 1, ROWS + 30_000);
      const second = await killSyncMidway({
        configPath,
        source: 'crash',
        env,
        midway: () => stagedParts(h.layout.lake, 'crash', 'big_full') >= 2,
      });
      expect(second, 'the sync finished before it could be killed; make the table bigger').toBe(true);
      expect(await h.query(lake('crash.big_full'))).toEqual([before]);
      const after = await expected();
      expect(await h.query(lake('crash.big_inc'))).toEqual([after]);

      await h.sync('crash');
      expect(await h.query(lake('crash.big_inc'))).toEqual([after]);
      expect(await h.query(lake('crash.big_full'))).toEqual([after]);
    } finally {
      h.close();
    }
  });
});
