import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { analyzeSelect } from './sql-references.ts';

describe('analyzeSelect', () => {
  it('reads a model whose numeric literal overflows a double (1e400) and lists its inputs', async () => {
    // json_serialize_sql writes such a literal as a bare Infinity, which is not JSON: the build
    // failed with a JSON syntax error instead of reading the model.
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await expect(
        analyzeSelect(connection, "SELECT 1e400 AS big, 'NaN' AS t FROM events JOIN crm.plans USING (id)"),
      ).resolves.toEqual({ ok: true, tables: ['crm.plans', 'events'] });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
