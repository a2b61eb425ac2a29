import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, configIn, jsonLines, runCli, tempDir, testConfig } from '../../test/helpers.ts';
import { writeAccessLogs, writeProjectFile } from '../../test/lake-fixtures.ts';
import { createCatalog } from '../catalog/index.ts';
import { createHttpApp } from '../http/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';

// One table has one kind, whichever output names it: a script reading inlet ls, inlet catalog and
// GET /api/lineage as JSON got source, source_table and mart for what was one table.

const temp = tempDir();
const dataDir = join(temp.dir, 'data');
const projectDir = join(temp.dir, 'project');
const customers = join(temp.dir, 'customers.csv');
const accessLog = join(temp.dir, 'access.log');
const sources = [
  { name: 'crm', type: 'csv' as const, tables: [{ path: customers, name: 'customers' }] },
  { name: 'nginx', type: 'file' as const, path: accessLog, format: 'nginx_combined' as const },
];
const configPath = configIn(
  temp.dir,
  [
    `data_dir: ${JSON.stringify(dataDir)}`,
    `project_dir: ${JSON.stringify(projectDir)}`,
    'models: { builtin: false }',
    'sources:',
    `  - { name: crm, type: csv, tables: [{ path: ${JSON.stringify(customers)}, name: customers }] }`,
    `  - { name: nginx, type: file, path: ${JSON.stringify(accessLog)}, format: nginx_combined }`,
  ].join('\n'),
);
const config = testConfig(dataDir, { project_dir: projectDir, models: { builtin: false }, sources });
const catalog = createCatalog({ config, logger: createSilentLogger() });
const app = createHttpApp({
  config,
  logger: createSilentLogger(),
  metrics: createMetrics(),
  catalog,
  apiToken: API_TOKEN,
});

/** The inlet command's NDJSON lines (as a pipe gets them), with this test's configuration. */
async function inlet(...argv: string[]): Promise<Array<Record<string, unknown>>> {
  const run = await runCli([...argv, '--config', configPath]);
  expect(run.code, `inlet ${argv.join(' ')}: ${run.err}`).toBe(0);
  return jsonLines(run.out);
}

/** The kind each named item has in a list of them (id for lineage's nodes). */
const kinds = (items: Array<Record<string, unknown>>, key = 'name') =>
  Object.fromEntries(items.map((item) => [String(item[key]), item.kind]));

async function api(url: string): Promise<Record<string, unknown>> {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(response.statusCode, `GET ${url}: ${response.body}`).toBe(200);
  return response.json();
}

beforeAll(async () => {
  writeFileSync(customers, 'id,name\n1,Aoki Co.\n');
  writeFileSync(accessLog, '');
  writeProjectFile(projectDir, 'seeds/countries.csv', 'code,name\nJP,Japan\n');
  writeProjectFile(
    projectDir,
    'models/customer_countries.sql',
    "SELECT c.*, 'JP' AS code FROM crm.customers AS c",
  );
  writeProjectFile(projectDir, 'models/not_built.sql', "SELECT * FROM {{ ref('countries') }}");
  await writeAccessLogs(dataLayout(dataDir), [{ ts: '2026-11-20T10:00:00Z', path: '/', status: 200 }]);
  await inlet('sync', 'crm');
  await inlet('run', '--exclude', 'not_built');
});
afterAll(async () => {
  await app.close();
  catalog.close();
  temp.cleanup();
});

describe("a table's kind", () => {
  const expected = {
    'crm.customers': 'source_table',
    customer_countries: 'model',
    countries: 'seed',
    not_built: 'model',
    access_logs: 'logs',
  };

  it('is the same word in inlet ls, inlet catalog and GET /api/catalog and /api/lineage', async () => {
    const listed = { ...kinds(await inlet('ls', 'source:crm')), ...kinds(await inlet('ls')) };
    // inlet ls lists what inlet run builds and the tables of a database's source: a log table neither.
    const { access_logs: _logs, ...inLs } = expected;
    expect(listed).toEqual(inLs);
    expect(kinds(await inlet('catalog', '--format', 'json'))).toEqual({ ...expected, events: 'events' });
    expect(kinds((await api('/api/catalog')).tables as Array<Record<string, unknown>>)).toEqual({
      ...expected,
      events: 'events',
    });
    const lineage = kinds((await api('/api/lineage')).nodes as Array<Record<string, unknown>>, 'id');
    expect(lineage).toEqual({
      ...expected,
      events: 'events',
      'source:crm': 'source',
      'source:nginx': 'source',
    });
    for (const [name, kind] of Object.entries(expected)) {
      expect((await inlet('catalog', name, '--format', 'json'))[0]?.kind, name).toBe(kind);
      expect((await api(`/api/catalog/${name}`)).kind, name).toBe(kind);
    }
  });

  it("is the first word of inlet catalog <table>'s heading on a terminal, with how it is materialized", async () => {
    const heading = async (name: string) => {
      const run = await runCli(['catalog', name, '--format', 'table', '--config', configPath]);
      return run.out.split('\n')[0];
    };
    expect(await heading('customer_countries')).toBe('customer_countries (model, table)');
    // A seed is materialized as a seed: said once.
    expect(await heading('countries')).toBe('countries (seed)');
    expect(await heading('crm.customers')).toBe('crm.customers (source_table)');
    expect(await heading('access_logs')).toBe('access_logs (logs)');
  });
});
