import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { writeAccessLogs, writeEvents } from '../../test/lake-fixtures.ts';
import type { InletConfig } from '../config/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { type Catalog, createCatalog } from './index.ts';

// Names the lake has no table for yet, though something in inlet.yaml would write one: each is
// NOT_FOUND saying what writes it, not the message for a misspelt name.

const temp = tempDir();
const logger = createSilentLogger();
afterAll(() => temp.cleanup());

/** A catalog over config's data directory, with events in its lake alone, given to body and closed after. */
async function withCatalog(config: InletConfig, body: (catalog: Catalog) => Promise<void>): Promise<void> {
  await writeEvents(dataLayout(config.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
  const catalog = createCatalog({ config, logger });
  try {
    await body(catalog);
  } finally {
    catalog.close();
  }
}

/** Each of names is NOT_FOUND with message. */
async function expectNotFound(catalog: Catalog, names: string[], message: string): Promise<void> {
  for (const name of names)
    await expect(catalog.table(name)).rejects.toMatchObject({ code: 'NOT_FOUND', message });
}

describe('a table of a source inlet.yaml leaves out for an unset variable', () => {
  it('is NOT_FOUND naming the variable to set, where it was said to be no table at all', async () => {
    // crm's url: ${CRM_URL}, unset: inlet catalog crm.customers answered "No table, view or model
    // named", as for a misspelt name, while inlet catalog source:crm said which variable to set.
    const leftOut = {
      ...testConfig(
        join(temp.dir, 'left-out'),
        { models: { builtin: false } },
        { configPath: join(temp.dir, 'prod.yaml') },
      ),
      sourcesLeftOut: ['crm'],
      sourcesLeftOutBy: { crm: 'CRM_URL' },
    };
    await withCatalog(leftOut, (own) =>
      expectNotFound(
        own,
        ['crm.customers', 'CRM.Customers'],
        'crm.customers is not in the lake, and the source crm that would copy it is not configured now: prod.yaml leaves it out, as the environment variable CRM_URL in its entry is not set; set CRM_URL (export CRM_URL=…), then inlet sync crm.',
      ),
    );
  });
});

describe('a log table nothing has written yet', () => {
  it('is NOT_FOUND saying what writes it, where it was said to be no table at all', async () => {
    const unwritten = testConfig(join(temp.dir, 'no-logs'), {
      models: { builtin: false },
      sources: [
        {
          name: 'web',
          type: 'file',
          path: join(temp.dir, 'web.log'),
          format: 'nginx_combined',
          table: 'web_access',
        },
      ],
    });
    await withCatalog(unwritten, async (own) => {
      await expectNotFound(
        own,
        ['web_access', 'Web_Access'],
        'web_access is the table the log source web writes, and it has written none yet, so it has no rows or columns to show: inlet sync web writes it (or inlet start tails it).',
      );
      await expectNotFound(
        own,
        ['access_logs'],
        'access_logs is the table of access logs, and no log has been written to it yet, so it has no rows or columns to show; access_logs appears once the first log lines are written to the lake: run inlet sync <source> for a source of type: file (or let inlet start tail it), or send logs to POST /logs (docs/logs.md).',
      );
      // source:web pointed to access_logs or app_logs, neither of which web writes.
      await expect(own.source('source:web')).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message:
          'web is a log source, whose rows are the table web_access, not tables of its own: inlet catalog web_access shows it.',
      });
      await expect(own.table('app_logs')).rejects.toMatchObject({
        message: expect.stringMatching(
          /^app_logs is the table of application logs, and no log has been written/,
        ),
      });
    });
  });
});

describe('a log source in lineage', () => {
  it('writes its table, written yet or not, where its node stood alone', async () => {
    const logs = testConfig(join(temp.dir, 'log-lineage'), {
      models: { builtin: false },
      sources: [
        { name: 'nginx', type: 'file', path: join(temp.dir, 'access.log'), format: 'nginx_combined' },
        {
          name: 'web',
          type: 'file',
          path: join(temp.dir, 'web.log'),
          format: 'nginx_combined',
          table: 'web_access',
        },
      ],
    });
    await writeAccessLogs(dataLayout(logs.data_dir), [
      { ts: '2026-11-20T10:00:00Z', path: '/', status: 200 },
    ]);
    await withCatalog(logs, async (own) => {
      const lineage = await own.lineage();
      expect(lineage.edges).toEqual([
        { from: 'source:nginx', to: 'access_logs' },
        { from: 'source:web', to: 'web_access' },
      ]);
      expect(lineage.nodes).toContainEqual({ id: 'web_access', kind: 'logs', built: false });
      expect((await own.table('access_logs')).upstream).toEqual(['source:nginx']);
    });
  });
});
