import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedOutput, configIn, tempDir, testConfig } from '../../test/helpers.ts';
import { spawnInlet } from '../../test/inlet-process.ts';
import { TEST_PG_URL, uniqueName } from '../../test/source-harness.ts';
import { startInlet } from '../app/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { openProject } from '../models/index.ts';
import { createStepHandlers } from '../scheduler/index.ts';
import { openStateStore } from '../state/index.ts';
import { ExitCode } from './exit-codes.ts';
import { main } from './main.ts';
import { syncCommand } from './sync.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('inlet sync', () => {
  it('refuses a log table named as a built-in mart or a model before writing it, naming both and another name', async () => {
    // table: daily_active_users was synced into the lake, and only inlet run refused the project,
    // once the table held rows; until then the clash went unsaid.
    const dir = join(temp.dir, 'clash');
    mkdirSync(join(dir, 'project', 'models'), { recursive: true });
    writeFileSync(join(dir, 'project', 'models', 'signups.sql'), 'SELECT 1 AS n');
    writeFileSync(
      join(dir, 'access.log'),
      '203.0.113.9 - - [10/Oct/2026:13:55:36 +0900] "GET / HTTP/1.1" 200 5 "-" "curl/8.0"\n',
    );
    const config = {
      ...testConfig(join(dir, 'data'), {
        project_dir: join(dir, 'project'),
        sources: [
          {
            name: 'web',
            type: 'file',
            path: join(dir, 'access.log'),
            format: 'nginx_combined',
            table: 'daily_active_users',
          },
          {
            name: 'edge',
            type: 'file',
            path: join(dir, 'access.log'),
            format: 'nginx_combined',
            table: 'signups',
          },
        ],
      }),
      configPath: join(dir, 'inlet.yaml'),
    };
    const sync = (name: string) => syncCommand([name], config, createSilentLogger(), capturedOutput().output);
    const mart =
      'inlet.yaml is not valid:\n  sources[0].table: the log table daily_active_users is also the name of the built-in mart daily_active_users, and one view cannot be both; name another table (e.g. table: web_daily_active_users), or turn the built-in marts off (models: { builtin: false })';
    await expect(sync('web')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: mart });
    expect(existsSync(join(dir, 'data', 'lake', 'daily_active_users'))).toBe(false);
    await expect(sync('edge')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `inlet.yaml is not valid:\n  sources[1].table: the log table signups is also the name of the model ${join(dir, 'project', 'models', 'signups.sql')}, and one view cannot be both; name another table (e.g. table: edge_signups), or rename the model`,
    });
    expect(existsSync(join(dir, 'data', 'lake', 'signups'))).toBe(false);
    // inlet run refuses the project with nothing in the lake yet, and inlet start to follow the log.
    expect(() => openProject(config)).toThrow(mart);
    await expect(startInlet({ config, logger: createSilentLogger() })).rejects.toMatchObject({
      message: mart,
    });
    // A workflow's sync step too.
    const state = openStateStore(join(dir, 'data', 'state.sqlite'));
    try {
      const handlers = createStepHandlers({ config, state, logger: createSilentLogger() });
      const step = { signal: new AbortController().signal, log: () => {} };
      await expect(handlers.sync('web', step)).rejects.toMatchObject({ message: mart });
    } finally {
      state.close();
    }
    expect(existsSync(join(dir, 'data', 'lake', 'daily_active_users'))).toBe(false);
  });

  it('counts one row as "1 row", not "1 rows"', async () => {
    mkdirSync(join(temp.dir, 'exports'), { recursive: true });
    writeFileSync(join(temp.dir, 'exports', 'plans.csv'), 'id,name\n1,pro\n');
    const config = testConfig(join(temp.dir, 'data'), {
      sources: [{ name: 'sales', type: 'csv', tables: [{ path: join(temp.dir, 'exports', 'plans.csv') }] }],
    });
    const captured = capturedOutput();
    expect(await syncCommand(['sales'], config, createSilentLogger(), captured.output)).toBe(0);
    expect(captured.err).toContain('plans: 1 row\n');
    expect(captured.err).toContain('Synced 1 row from sales.');
  });

  it('says that a source.table names a table, and that inlet sync copies its whole source', async () => {
    const config = testConfig(join(temp.dir, 'data'), {
      sources: [{ name: 'sales', type: 'csv', tables: [{ path: join(temp.dir, 'exports', 'plans.csv') }] }],
    });
    const captured = capturedOutput();
    await expect(syncCommand(['sales.plans'], config, createSilentLogger(), captured.output)).rejects.toThrow(
      'No source named "sales.plans" in the configuration; configured sources: sales. "sales.plans" names a table of source "sales": inlet sync copies every table of a source, so run inlet sync sales.',
    );
  });

  it('lists a source left out for its unset URL variable among the configured ones, and says crm.plans is its table', async () => {
    // README's crm, its URL unset: inlet sync nosuch said "configured sources: sales", as if crm were not there.
    const config = {
      ...testConfig(join(temp.dir, 'data'), {
        sources: [{ name: 'sales', type: 'csv', tables: [{ path: join(temp.dir, 'exports', 'plans.csv') }] }],
      }),
      sourcesLeftOut: ['crm'],
    };
    const sync = (name: string) => syncCommand([name], config, createSilentLogger(), capturedOutput().output);
    await expect(sync('nosuch')).rejects.toThrow(
      'No source named "nosuch" in the configuration; configured sources: sales, crm.',
    );
    await expect(sync('crm.plans')).rejects.toThrow(
      '"crm.plans" names a table of source "crm": inlet sync copies every table of a source, so run inlet sync crm.',
    );
  });

  it('names a configuration file that is no file in a folder by its whole path, not "null"', async () => {
    // --config /dev/null (the defaults): "inlet sync needs the name of a source: null lists none".
    const captured = capturedOutput();
    expect(
      await main(['sync', '--config', '/dev/null'], captured.output, { INLET_LOG_LEVEL: 'silent' }),
    ).toBe(ExitCode.USAGE);
    expect(captured.err).toMatch(
      /^inlet sync needs the name of a source: none is configured; add one under sources: in \/dev\/null \(/,
    );
  });

  it('says no source is configured, and where to add one, when a source is named with none configured', async () => {
    // "configured sources: (none configured)." said what was missing, not where to add it.
    const config = configIn(join(temp.dir, 'no-sources'), 'data_dir: ./data\n');
    const captured = capturedOutput();
    expect(
      await main(['sync', 'crm', '--config', config], captured.output, { INLET_LOG_LEVEL: 'silent' }),
    ).toBe(ExitCode.USAGE);
    expect(captured.err).toBe(
      'NOT_FOUND: No source named "crm": none is configured; add one under sources: in inlet.yaml (docs/databases.md, docs/csv.md, docs/logs.md).\n',
    );
  });

  it('names the configuration file given by --config where a relative path that matches nothing starts', async () => {
    // With --config prod.yaml, both said relative paths start at "inlet.yaml", a file there is not.
    const dir = join(temp.dir, 'prod');
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'prod.yaml');
    writeFileSync(
      config,
      [
        'data_dir: ./data',
        'sources:',
        '  - { name: crm, type: csv, tables: [{ path: exports/clients.csv }] }',
        '  - { name: web, type: file, path: logs/access.log, format: nginx_combined }',
        '',
      ].join('\n'),
    );
    const sync = async (source: string) => {
      const captured = capturedOutput();
      const code = await main(['sync', source, '--config', config], captured.output, {
        INLET_LOG_LEVEL: 'silent',
      });
      return [code, captured.err];
    };
    expect(await sync('crm')).toEqual([
      ExitCode.FAILURE,
      expect.stringContaining(
        `crm.clients: no file matches ${join(dir, 'exports/clients.csv')}; check this table's path: exports/clients.csv (a relative path starts at ${dir}, the folder of prod.yaml).`,
      ),
    ]);
    expect(await sync('web')).toEqual([
      ExitCode.FAILURE,
      expect.stringContaining(
        `nothing is at ${join(dir, 'logs/access.log')}; check the path and that the files exist (a relative path starts at ${dir}, the folder of prod.yaml).`,
      ),
    ]);
  });

  it('names the configuration file given by --config as the one to edit for a csv table', async () => {
    // With --config prod.yaml, the advice was to set delimiter: "for this table in inlet.yaml".
    const dir = join(temp.dir, 'prod-delimiter');
    mkdirSync(join(dir, 'exports'), { recursive: true });
    writeFileSync(join(dir, 'exports', 'kunden.csv'), 'id;name\n1;Müller\n');
    const config = join(dir, 'prod.yaml');
    writeFileSync(
      config,
      'data_dir: ./data\nsources:\n  - { name: crm, type: csv, tables: [{ path: exports/kunden.csv }] }\n',
    );
    const captured = capturedOutput();
    const code = await main(['sync', 'crm', '--config', config], captured.output, {
      INLET_LOG_LEVEL: 'silent',
    });
    expect([code, captured.err]).toEqual([
      ExitCode.FAILURE,
      expect.stringContaining('set delimiter: ";" for this table in prod.yaml (docs/csv.md)'),
    ]);
  });

  it('says which line of which file opens a quoted field its rows wait for, and what to do if it is a stray quote', async () => {
    // A stray quote in a file that keeps growing held back every row after it with no word: the
    // sync said "notes: 0 rows" until the file had been still for a minute, or 8 MB followed it.
    const exports = join(temp.dir, 'exports-quote');
    mkdirSync(exports, { recursive: true });
    const file = join(exports, 'notes.csv');
    writeFileSync(file, 'id,note\n1,a\n');
    const config = testConfig(join(temp.dir, 'data-quote'), {
      sources: [{ name: 'crm', type: 'csv', tables: [{ path: file, mode: 'incremental' }] }],
    });
    expect(await syncCommand(['crm'], config, createSilentLogger(), capturedOutput().output)).toBe(0);
    appendFileSync(file, '2,b\n3,"stray quote\n4,c\n');
    const note =
      'crm.notes: line 4 of notes.csv opens a quoted field (") that no quote closes yet, so it and the lines after it wait for the closing quote, as a row still being written. ' +
      'If the quote is stray, correct the line (a quote inside a field is written twice, ""): the lines wait until the file has not changed for a minute, or until more than 8 MB follow the quote, and the sync then fails naming it.\n';
    const sync = async () => {
      const captured = capturedOutput();
      expect(await syncCommand(['crm'], config, createSilentLogger(), captured.output)).toBe(0);
      return captured.err;
    };
    expect(await sync()).toContain(`notes: 1 row\n${note}`);
    // Said again at a sync that finds the file as it was, for as long as the lines wait.
    expect(await sync()).toContain(`notes: 0 rows\n${note}`);
    appendFileSync(file, 'end"\n');
    const closed = await sync();
    expect(closed).toContain('notes: 1 row\n');
    expect(closed).not.toContain('quoted field');
  });

  it('names a file standing where the lake or data/tmp should be a folder, where it ended with a bare ENOTDIR', async () => {
    mkdirSync(join(temp.dir, 'exports'), { recursive: true });
    writeFileSync(join(temp.dir, 'exports', 'plans.csv'), 'id,name\n1,pro\n');
    for (const [place, said] of [
      ['lake', "The lake's tables cannot be read or written: "],
      ['tmp', 'data_dir '],
    ]) {
      const data = join(temp.dir, `data-${place}-file`);
      mkdirSync(data, { recursive: true });
      writeFileSync(join(data, place), 'not a folder\n');
      const config = testConfig(data, {
        sources: [{ name: 'sales', type: 'csv', tables: [{ path: join(temp.dir, 'exports', 'plans.csv') }] }],
      });
      // "inlet sync failed with an error inlet did not foresee: ENOTDIR: not a directory, mkdir …" (exit 5).
      await expect(
        syncCommand(['sales'], config, createSilentLogger(), capturedOutput().output),
      ).rejects.toMatchObject({
        code: place === 'lake' ? 'LAKE_UNREADABLE' : 'DATA_DIR_UNUSABLE',
        message: expect.stringContaining(`${said}`),
      });
      await expect(
        syncCommand(['sales'], config, createSilentLogger(), capturedOutput().output),
      ).rejects.toThrow(`${join(data, place)} is a file where inlet keeps a folder`);
    }
  });

  it('logs an expected table failure at debug as its code and message once, without a stack trace', async () => {
    mkdirSync(join(temp.dir, 'exports'), { recursive: true });
    writeFileSync(join(temp.dir, 'exports', 'plans.csv'), 'id,name\n1,pro\n');
    writeFileSync(join(temp.dir, 'exports', 'users.csv'), 'id,name\n1,ada\n');
    const config = testConfig(join(temp.dir, 'data-expected'), {
      sources: [
        {
          name: 'sales',
          type: 'csv',
          tables: [
            {
              path: join(temp.dir, 'exports', 'plans.csv'),
              mode: 'merge',
              primary_key: ['nosuch'],
              cursor: 'id',
            },
            { path: join(temp.dir, 'exports', 'users.csv') },
          ],
        },
      ],
    });
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const captured = capturedOutput();
    await expect(syncCommand(['sales'], config, logger, captured.output)).rejects.toMatchObject({
      code: 'SOURCE_SCHEMA_INVALID',
    });
    const failed = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'table not synced');
    expect(failed).toMatchObject({
      code: 'SOURCE_SCHEMA_INVALID',
      error: expect.stringContaining('primary_key "nosuch"'),
    });
    expect(failed.err).toBeUndefined();
    expect(JSON.stringify(failed)).not.toContain('    at ');
    expect(JSON.stringify(failed).split('is not a column of the result')).toHaveLength(2);
  });

  it("says DuckDB's error once in the log line of a SOURCE_SCHEMA_INVALID type change", async () => {
    const dir = join(temp.dir, 'type-change');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'orders_1.csv'), 'id,day\n1,2026-11-20\n');
    const config = testConfig(join(temp.dir, 'data-type-change'), {
      sources: [
        {
          name: 'crm',
          type: 'csv',
          tables: [{ path: join(dir, 'orders_*.csv'), name: 'orders', mode: 'incremental' }],
        },
      ],
    });
    expect(await syncCommand(['crm'], config, createSilentLogger(), capturedOutput().output)).toBe(0);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,day\n2,20261121\n');
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    await expect(syncCommand(['crm'], config, logger, capturedOutput().output)).rejects.toMatchObject({
      code: 'SOURCE_SCHEMA_INVALID',
    });
    const failed = lines.find((line) => line.includes('table not synced')) ?? '';
    expect(failed.split('Conversion Error')).toHaveLength(2);
  });

  it("says once that nothing was imported when the table's own message says so already", async () => {
    // A ";" CSV ended "Nothing was imported and the table keeps its rows. Nothing of a table that
    // failed was committed, and tables copied are kept: ...", the same thing twice.
    const dir = join(temp.dir, 'semicolons');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'kunden.csv'), 'id;name\n1;Müller\n');
    writeFileSync(join(dir, 'plans.csv'), 'id,name\n1,pro\n');
    const file = { configPath: join(dir, 'inlet.yaml') };
    const config = testConfig(
      join(temp.dir, 'data-semicolons'),
      { sources: [{ name: 'crm', type: 'csv', tables: [{ path: join(dir, 'kunden.csv') }] }] },
      file,
    );
    const one = await syncCommand(['crm'], config, createSilentLogger(), capturedOutput().output).catch(
      (e) => e,
    );
    expect(one.message).toBe(
      'crm.kunden: the header of kunden.csv holds no "," but is split into columns by ";"; set delimiter: ";" for this table in inlet.yaml (docs/csv.md), or delimiter: "," for a file of one column. ' +
        'Nothing of a table that failed was committed, and tables copied are kept: run "inlet sync crm" again once that is fixed.',
    );
    const two = testConfig(
      join(temp.dir, 'data-semicolons-two'),
      {
        sources: [
          {
            name: 'crm',
            type: 'csv',
            tables: [{ path: join(dir, 'plans.csv') }, { path: join(dir, 'kunden.csv') }],
          },
        ],
      },
      file,
    );
    const error = await syncCommand(['crm'], two, createSilentLogger(), capturedOutput().output).catch(
      (e) => e,
    );
    expect(error.message).toBe(
      '1 of 2 tables of "crm" were not copied: crm.kunden: the header of kunden.csv holds no "," but is split into columns by ";"; set delimiter: ";" for this table in inlet.yaml (docs/csv.md), or delimiter: "," for a file of one column. Copied: plans (1 row). ' +
        'Nothing of a table that failed was committed, and tables copied are kept: run "inlet sync crm" again once that is fixed.',
    );
  });

  it('says a failed table once, after the progress bar, with what to do, and exits 1', async () => {
    // The table's failure was logged as an error (a JSON line) and then printed again as the final
    // line; on a terminal the final line began at the end of the unfinished progress bar.
    const dir = join(temp.dir, 'once');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'users.csv'), 'id,name\n1,ada\n');
    writeFileSync(join(dir, 'plans.csv'), 'id,name\n1,pro\n');
    const file = configIn(
      dir,
      [
        'data_dir: ./data',
        'sources:',
        '  - name: sales',
        '    type: csv',
        '    tables:',
        '      - path: ./users.csv',
        '      - { path: ./plans.csv, mode: merge, primary_key: [nosuch], cursor: id }',
        '',
      ].join('\n'),
    );
    const { INLET_LOG_LEVEL: _, ...env } = process.env;
    const sync = spawnInlet(['sync', 'sales', '--config', file], env);
    expect(await sync.exit).toBe(ExitCode.FAILURE);
    expect(sync.err).toBe(
      'SOURCE_SCHEMA_INVALID: 1 of 2 tables of "sales" were not copied: sales.plans: primary_key "nosuch" is not a column of the result; its columns are: id, name. Copied: users (1 row). ' +
        'Nothing of a table that failed was committed, and tables copied are kept: run "inlet sync sales" again once that is fixed.\n',
    );

    const config = testConfig(join(dir, 'data-tty'), {
      sources: [
        {
          name: 'sales',
          type: 'csv',
          tables: [
            { path: join(dir, 'users.csv') },
            { path: join(dir, 'plans.csv'), mode: 'merge', primary_key: ['nosuch'], cursor: 'id' },
          ],
        },
      ],
    });
    const captured = capturedOutput();
    await expect(
      syncCommand(['sales'], config, createSilentLogger(), {
        ...captured.output,
        isTty: true,
        progress: true,
      }),
    ).rejects.toMatchObject({ code: 'SOURCE_SCHEMA_INVALID' });
    expect(captured.err).toMatch(/^\rSyncing sales [^\n]* 1\/1 [^\n]*\n$/);
  });

  it("ends a database's progress bar at the rows copied, not at the query plan's estimate of them", async () => {
    // The bar kept the total of its first draw, PostgreSQL's guess for a table never analysed
    // (hundreds of rows for these 3), so a sync that copied every row ended at 3/921, the bar empty.
    const schema = uniqueName('inlet_bar');
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`CREATE TABLE ${schema}.notes (id int, body text)`);
      await client.query(`INSERT INTO ${schema}.notes VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
      const config = testConfig(join(temp.dir, 'data-bar'), {
        sources: [
          { name: 'app', type: 'postgres', url: TEST_PG_URL, tables: [{ table: `${schema}.notes` }] },
        ],
      });
      const captured = capturedOutput();
      const output = { ...captured.output, isTty: true, progress: true };
      expect(await syncCommand(['app'], config, createSilentLogger(), output)).toBe(ExitCode.OK);
      const drawn = captured.err.split('\r').filter(Boolean);
      expect(drawn.at(-1)).toMatch(/^Syncing app \[█{30}\] 3\/3 [^\n]*\n/);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  it("draws a log source's progress bar, ending at the lines read, for a file of one chunk too", async () => {
    // Bytes were counted before the lines they held, and lines only once some were: a file under
    // 256 KiB drew no bar at all, and a longer one's bar ended a chunk of lines short.
    const dir = join(temp.dir, 'log-bar');
    mkdirSync(dir, { recursive: true });
    const line = (n: number) =>
      `203.0.113.7 - - [10/Oct/2026:13:55:36 +0900] "GET /docs/${n} HTTP/1.1" 200 12 "-" "curl/8.0"\n`;
    writeFileSync(join(dir, 'access.log'), [1, 2, 3].map(line).join(''));
    const config = testConfig(join(dir, 'data'), {
      sources: [{ name: 'web', type: 'file', path: join(dir, 'access.log'), format: 'nginx_combined' }],
    });
    const captured = capturedOutput();
    const output = { ...captured.output, isTty: true, progress: true };
    expect(await syncCommand(['web'], config, createSilentLogger(), output)).toBe(ExitCode.OK);
    const drawn = captured.err.split('\r').filter(Boolean);
    expect(drawn.at(-1)).toMatch(/^Syncing web \[█{30}\] 3\/3 [^\n]*\n/);
  });
});
