import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, tempDir, testConfig } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { createCatalog } from '../catalog/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { runModels } from '../models/index.ts';
import { createRunHistory } from '../scheduler/index.ts';
import { openStateStore } from '../state/index.ts';
import { createHttpApp } from './index.ts';

const temp = tempDir();
const logger = createSilentLogger();
const config = testConfig(join(temp.dir, 'data'), {
  project_dir: join(temp.dir, 'project'),
  models: { builtin: false },
});
const state = openStateStore(join(config.data_dir, 'state.sqlite'));
const runs = createRunHistory(state);
const catalog = createCatalog({ config, logger });
const app = createHttpApp({ config, logger, metrics: createMetrics(), catalog, runs, apiToken: API_TOKEN });
const get = (url: string, token: string | null = API_TOKEN) =>
  app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

beforeAll(async () => {
  await writeEvents(dataLayout(config.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
  writeProjectFile(
    config.project_dir,
    'models/logins.sql',
    "/*---\ndescription: Logins.\n---*/\nSELECT dt, count(*)::INT AS n FROM events WHERE name = 'login' GROUP BY ALL",
  );
  expect((await runModels({ config, logger })).ok).toBe(true);
  const id = runs.claim({
    workflow: 'nightly',
    scheduledFor: '2026-11-21T20:00:00.000Z',
    trigger: 'schedule',
    owner: 'test',
  }) as number;
  runs.start(id);
  runs.startStep(id, 0, 'run +logins');
  runs.updateStep(id, 0, { attempts: 1, log: 'ok logins', status: 'success' });
  runs.finish(id, 'success');
});
afterAll(async () => {
  await app.close();
  catalog.close();
  state.close();
  temp.cleanup();
});

describe('catalog and runs over HTTP', () => {
  it('needs the API token', async () => {
    for (const url of [
      '/api/catalog',
      '/api/catalog/events',
      '/api/lineage',
      '/api/runs',
      '/api/runs/1',
      '/api/workflows',
    ]) {
      const response = await get(url, null);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('UNAUTHORIZED');
    }
  });

  it('says where the token is, when INLET_API_TOKEN is not set too', async () => {
    // "send Authorization: Bearer <INLET_API_TOKEN>" sent one who had started inlet without the
    // variable (README's way) to look for a variable never set, where inlet had generated the token.
    expect((await get('/api/catalog', 'not-the-token-0123')).json().error.message).toBe(
      'Missing or wrong API token; send Authorization: Bearer <token>, with the value of INLET_API_TOKEN, or, when that is not set, the token inlet generated into data/state/api-token under its data_dir (inlet start logs where).',
    );
  });

  it('serves the catalog, one table, and the lineage', async () => {
    const list = await get('/api/catalog');
    expect(list.statusCode).toBe(200);
    expect(
      list.json().tables.map((t: { name: string; kind: string; rows: number }) => [t.name, t.kind, t.rows]),
    ).toEqual([
      ['events', 'events', 1],
      ['logins', 'model', 1],
    ]);
    const table = await get('/api/catalog/logins');
    expect(table.json()).toMatchObject({
      name: 'logins',
      materialized: 'table',
      description: 'Logins.',
      upstream: ['events'],
      columns: [
        {
          name: 'dt',
          type: 'DATE',
          description: 'UTC day of ts; the partition.',
          description_from: 'events',
        },
        { name: 'n', type: 'INTEGER', description: null },
      ],
    });
    const missing = await get('/api/catalog/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
    expect((await get('/api/lineage')).json().edges).toEqual([{ from: 'events', to: 'logins' }]);
  });

  it('serves the lineage of a model not built yet, read from its SQL, where it had no upstream before its build', async () => {
    writeProjectFile(
      config.project_dir,
      'models/not_built.sql',
      'WITH logins AS (SELECT * FROM events) SELECT count(*) AS n FROM logins',
    );
    try {
      const lineage = (await get('/api/lineage')).json();
      expect(lineage.edges).toEqual([
        { from: 'events', to: 'logins' },
        { from: 'events', to: 'not_built' },
      ]);
      expect(lineage.nodes).toContainEqual({ id: 'not_built', kind: 'model', built: false });
      expect((await get('/api/catalog/events')).json().downstream).toEqual(['logins', 'not_built']);
      // Listed beside the built tables, as dbt's docs list every model: it was left out.
      const listed = (await get('/api/catalog')).json().tables;
      expect(listed.map((t: { name: string; built: boolean }) => [t.name, t.built])).toEqual([
        ['events', true],
        ['logins', true],
        ['not_built', false],
      ]);
      expect(listed[2]).toMatchObject({
        kind: 'model',
        materialized: 'table',
        rows: null,
        bytes: 0,
        files: 0,
        updated_at: null,
        depends_on: ['events'],
        columns: [{ name: 'n', type: 'BIGINT', description: null }],
      });
      expect(listed[2]).not.toHaveProperty('partition_list');
      // Its page, as dbt's docs show a model before its first run, where it was 404 NOT_FOUND.
      const page = await get('/api/catalog/not_built');
      expect(page.statusCode).toBe(200);
      expect(page.json()).toMatchObject({
        name: 'not_built',
        built: false,
        rows: null,
        updated_at: null,
        upstream: ['events'],
        columns: [{ name: 'n', type: 'BIGINT', description: null }],
      });
    } finally {
      rmSync(join(config.project_dir, 'models', 'not_built.sql'));
    }
  });

  it('serves the run history and one run with its steps', async () => {
    const list = await get('/api/runs?workflow=nightly&limit=5');
    expect(list.json().runs).toMatchObject([
      { workflow: 'nightly', status: 'success', scheduled_for: '2026-11-21T20:00:00.000Z' },
    ]);
    const id = list.json().runs[0].id;
    expect((await get(`/api/runs/${id}`)).json()).toMatchObject({
      id,
      steps: [{ position: 0, step: 'run +logins', status: 'success', attempts: 1, log: 'ok logins' }],
    });
    expect((await get('/api/runs/999')).statusCode).toBe(404);
    const bad = await get('/api/runs?limit=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_FIELD');
  });

  it('names an unknown run id as read in its 404, as inlet runs does, where /api/runs/0012 said "No run has id 0012"', async () => {
    const newest = (await get('/api/runs?limit=1')).json().runs[0].id;
    for (const [typed, named] of [
      ['0012', '12'],
      ['999', '999'],
      // Past 2^53: Number() would round it into another id.
      ['99999999999999999999', '99999999999999999999'],
    ]) {
      const missing = await get(`/api/runs/${typed}`);
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toMatchObject({
        code: 'NOT_FOUND',
        message: `No run has id ${named}; the newest run is ${newest} (GET /api/runs lists them).`,
      });
    }
  });

  it('says a run id is a whole number for /api/runs/nightly, where it said no run had that id', async () => {
    for (const [path, id, query] of [
      ['/api/runs/nightly', 'nightly', 'nightly'],
      ['/api/runs/-1', '-1', '-1'],
      ['/api/runs/%E2%98%83%20x', '☃ x', '%E2%98%83%20x'],
    ]) {
      const response = await get(path);
      expect([response.statusCode, response.json().error], path).toEqual([
        404,
        {
          code: 'NOT_FOUND',
          message: `"${id}" is not a run id (a whole number); GET /api/runs?workflow=${query} lists the runs of a workflow, GET /api/runs all of them.`,
        },
      ]);
    }
  });

  it('pages through more runs than one answer holds with ?before= and the next link; bad values are 400s', async () => {
    const ids = state.db.transaction(() =>
      Array.from({ length: 1_205 }, (_, i) => {
        const id = runs.claim({
          workflow: 'busy',
          scheduledFor: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
          trigger: 'schedule',
          owner: 'test',
        }) as number;
        runs.finish(id, i % 2 === 0 ? 'success' : 'failed');
        return id;
      }),
    )();
    const first = await get('/api/runs?workflow=busy&limit=1000');
    expect(first.statusCode).toBe(200);
    expect(first.json().runs).toHaveLength(1000);
    const oldestShown = first.json().runs.at(-1).id;
    expect(first.json().next).toBe(`/api/runs?workflow=busy&limit=1000&before=${oldestShown}`);
    const second = await get(first.json().next);
    expect(second.json().runs).toHaveLength(205);
    expect(second.json().next).toBeNull();
    const seen = [...first.json().runs, ...second.json().runs].map((r: { id: number }) => r.id);
    expect(seen).toEqual([...ids].reverse());
    // Filters carry over to the next page.
    const failed = await get('/api/runs?workflow=busy&status=failed&limit=600');
    expect(failed.json().runs).toHaveLength(600);
    const rest = await get(failed.json().next);
    expect(rest.json().runs.map((r: { status: string }) => r.status)).toEqual(Array(2).fill('failed'));
    for (const [query, message] of [
      ['limit=1001', 'limit: must be a whole number from 1 to 1000'],
      ['limit=ten', 'limit: must be a whole number from 1 to 1000'],
      // Digits only, as inlet runs --limit: Number() would read each of these as a whole number.
      ...['1e3', '0x10', '%2010', '10.0', '+5'].map((text) => [
        `limit=${text}`,
        'limit: must be a whole number from 1 to 1000',
      ]),
      [
        'before=abc',
        'before: must be a run id (a whole number above 0), such as the id of the oldest run of the page before',
      ],
      [
        'before=0',
        'before: must be a run id (a whole number above 0), such as the id of the oldest run of the page before',
      ],
      ['workflow=busy&workflow=nightly', 'workflow: give one workflow name, once'],
      // Empty, it listed the runs of every workflow, where status= is refused.
      ['workflow=', 'workflow: give a workflow name, or leave workflow out for the runs of all of them'],
      // Its 404 repeated the name whole, 5,000 characters of it.
      [`workflow=${'a'.repeat(5000)}`, "workflow: is 5000 characters, and a workflow's name is at most 63"],
    ]) {
      const bad = await get(`/api/runs?${query}`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'INVALID_FIELD', message });
    }
  });

  it('names the workflows there are for a workflow no run or configuration has, where it listed no runs', async () => {
    // inlet runs --workflow nightyl says so; the API answered {"runs": [], "next": null}, as for a
    // workflow that never ran, to a dashboard polling a misspelt name.
    const bad = await get('/api/runs?workflow=nightyl');
    expect([bad.statusCode, bad.json().error.code]).toEqual([404, 'NOT_FOUND']);
    expect(bad.json().error.message).toMatch(
      /^No workflow is named "nightyl", configured or with runs; workflows: [a-z_, ]*\bnightly\b[a-z_, ]*\.$/,
    );
    // A workflow with runs but none that match the other filters is still an empty page.
    const none = await get('/api/runs?workflow=nightly&status=timed_out');
    expect([none.statusCode, none.json()]).toEqual([200, { runs: [], next: null }]);
  });

  it('says why a workflow an unset variable leaves out is left out, as inlet runs --workflow does, and lists it as not loading', async () => {
    // The list named "backfill" among the workflows without saying it is left out, nor what to set:
    // inlet runs --workflow says "backfill (left out: BACKFILL_START is not set)".
    const leftOut = createHttpApp({
      config: { ...config, workflowsLeftOut: { backfill: 'BACKFILL_START' } },
      logger,
      metrics: createMetrics(),
      catalog,
      runs,
      apiToken: API_TOKEN,
    });
    const bad = await leftOut.inject({
      method: 'GET',
      url: '/api/runs?workflow=nightyl',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(bad.statusCode).toBe(404);
    expect(bad.json().error.message).toContain('backfill (left out: BACKFILL_START is not set)');
    // GET /api/workflows listed it nowhere, neither loaded nor not loading: only inlet start's log said why.
    const listed = await leftOut.inject({
      method: 'GET',
      url: '/api/workflows',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(listed.json()).toEqual({
      workflows: [],
      not_loading: [
        {
          name: 'backfill',
          file: 'inlet.yaml',
          code: 'CONFIG_INVALID',
          error:
            // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
            'Workflow "backfill" is left out: inlet.yaml gives it ${BACKFILL_START}, and the environment variable BACKFILL_START is not set; set it (export BACKFILL_START=…) or write ${BACKFILL_START:-default} in inlet.yaml, then restart inlet for it to run on its cron.',
        },
      ],
    });
    await leftOut.close();
  });

  it('refuses a URL parameter GET /api/runs does not take, which was passed over (?limt=1 listed 50 runs)', async () => {
    // A cache-buster (jQuery's cache: false sends ?_=<time>) is no misspelling.
    expect((await get('/api/runs?_=1733450000000&limit=1')).statusCode).toBe(200);
    for (const query of ['limt=1', 'workflow=nightly&state=failed']) {
      const bad = await get(`/api/runs?${query}`);
      const name = query.includes('state') ? 'state' : 'limt';
      expect([bad.statusCode, bad.json().error]).toEqual([
        400,
        {
          code: 'INVALID_FIELD',
          message: `${name}: is not a parameter of GET /api/runs, which takes workflow, status, limit and before`,
          field: name,
        },
      ]);
    }
  });

  it('refuses a URL parameter the catalog, the lineage and one run do not take, naming the route and what it gives', async () => {
    // ?table=logins listed every table; then /api/lineage?x=1 was refused with a hint on the catalog.
    expect((await get('/api/catalog?_=1733450000000')).statusCode).toBe(200);
    const catalog =
      'GET /api/catalog, which takes none; it lists every table, and GET /api/catalog/<table> gives one';
    const lineage =
      "GET /api/lineage, which takes none; it draws the lineage of every table, and GET /api/catalog/<table> gives one table's upstream and downstream";
    const cases: [string, string, string][] = [
      ['/api/catalog?table=logins', 'table', catalog],
      ['/api/catalog?kind=mart', 'kind', catalog],
      ['/api/lineage?x=1', 'x', lineage],
      ['/api/lineage?table=logins', 'table', lineage],
      ['/api/catalog/logins?columns=n', 'columns', 'GET /api/catalog/<table>, which takes none'],
      [
        '/api/runs/1?steps=0',
        'steps',
        'GET /api/runs/<id>, which takes none; GET /api/runs?workflow=&status= filters the list of runs',
      ],
      [
        '/api/workflows?name=x',
        'name',
        'GET /api/workflows, which takes none; GET /api/runs?workflow= lists the runs of a workflow',
      ],
    ];
    // Without a scheduler in the process, the workflows are read when first asked: none here.
    expect((await get('/api/workflows')).json()).toEqual({ workflows: [], not_loading: [] });
    for (const [url, name, route] of cases) {
      const bad = await get(url);
      expect([bad.statusCode, bad.json().error], url).toEqual([
        400,
        {
          code: 'INVALID_FIELD',
          message: `${name}: is not a parameter of ${route}`,
          field: name,
        },
      ]);
    }
  });

  it('shows a run whose process died as abandoned without a scheduler, as inlet runs does', async () => {
    const id = runs.claim({
      workflow: 'killed',
      scheduledFor: null,
      trigger: 'manual',
      owner: 'gone:1',
    }) as number;
    runs.start(id);
    runs.startStep(id, 0, 'sync crm');
    // Its process was killed ten minutes ago, just after it started: its start is its last heartbeat.
    // Its duration was that heartbeat less its start, 0 s (or less, with the start moved back alone).
    const killedAt = new Date(Date.now() - 600_000).toISOString();
    state.db
      .prepare('UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ?')
      .run(killedAt, killedAt, id);
    state.db.prepare('UPDATE workflow_run_steps SET started_at = ? WHERE run_id = ?').run(killedAt, id);
    expect((await get('/api/runs?workflow=killed')).json().runs).toMatchObject([
      { id, status: 'abandoned', duration_ms: null },
    ]);
    expect((await get(`/api/runs/${id}`)).json()).toMatchObject({
      status: 'abandoned',
      duration_ms: null,
      error: expect.stringContaining('so how long the run went on is not known'),
      steps: [{ step: 'sync crm', status: 'failed', duration_ms: null }],
    });
  });
});
