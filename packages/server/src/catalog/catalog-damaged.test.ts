import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, withSalesSynced } from '../../test/helpers.ts';
import { writeEvents } from '../../test/lake-fixtures.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createCatalog } from './index.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe("a source's table whose _table.json cannot be read", () => {
  it('is listed as a source table of its source, with its files, and why it cannot be queried', async () => {
    // It was listed as "sales.accounts (mart)", with upstream -, 0 B and no files: a mart, to one
    // who then looked for a model to build again, where inlet sync sales writes it again.
    const config = await withSalesSynced(temp.dir);
    await writeEvents(dataLayout(config.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const catalog = createCatalog({ config, logger: createSilentLogger() });
    try {
      const synced = await catalog.table('sales.accounts');
      writeFileSync(
        join(dataLayout(config.data_dir).lake, 'sources', 'sales', 'accounts', '_table.json'),
        '{"name": "sales.acc',
      );
      const damaged = await catalog.table('sales.accounts');
      expect(damaged).toMatchObject({
        kind: 'source_table',
        rows: null,
        files: synced.files,
        bytes: synced.bytes,
        upstream: ['source:sales'],
        unavailable: expect.stringContaining('_table.json cannot be read'),
      });
    } finally {
      catalog.close();
    }
  });
});
