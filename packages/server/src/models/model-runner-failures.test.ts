// What fails a model, by name, and what the run does then: SQL that is not one SELECT or fails,
// seeds DuckDB cannot read as their columns say, columns of one name, a file in the way, a NUL byte,
// reads outside the lake and the project, table functions a model may not call, another process's
// build, and tables not in the lake yet.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killedAfterwards } from '../../test/child-processes.ts';
import { featureProject, statuses } from '../../test/model-project.ts';
import { readLakeTable } from '../lake/index.ts';
import { testModels } from './index.ts';

const { temp, config, project, run, rows } = featureProject();

describe('running models', () => {
  it('a failing model skips what is downstream of it and nothing else; the run fails', async () => {
    project('models/broken.sql', 'SELECT no_such_column FROM events');
    project('models/after_broken.sql', "SELECT * FROM {{ ref('broken') }}");
    const result = await run();
    expect(result.ok).toBe(false);
    expect(statuses(result)).toMatchObject({
      broken: 'failed',
      after_broken: 'skipped',
      feature_daily: 'success',
      feature_totals: 'success',
      users: 'success',
    });
    expect(result.models.find((m) => m.name === 'broken')?.message).toMatch(/no_such_column/);
    expect(result.models.find((m) => m.name === 'after_broken')?.message).toBe('upstream broken failed');
    project('models/broken.sql', 'SELECT 1 AS fixed;');
    project('models/not_select.sql', 'CREATE TABLE x AS SELECT 1');
    const again = await run({ selectors: ['broken+', 'not_select'] });
    expect(statuses(again)).toEqual({ broken: 'success', after_broken: 'success', not_select: 'failed' });
    expect(again.models.find((m) => m.name === 'not_select')?.message).toMatch(/one SELECT statement/);
    // A model just created, its SQL yet to write: 'must be one SELECT statement, not 0'.
    project('models/not_select.sql', '/*---\ndescription: To do.\n---*/\n-- SELECT …\n');
    const empty = await run({ selectors: ['not_select'] });
    expect(empty.models[0]?.message).toMatch(
      /not_select\.sql: a model holds no SQL \(it is empty, or only comments\); write its one SELECT statement$/,
    );
    project('models/not_select.sql', 'SELECT 1 AS x');
    // DuckDB binds its JSON arrows more loosely than AND: the message says how to write it.
    project(
      'models/arrows.sql',
      `SELECT count(*) AS n FROM (SELECT type, '{"plan":"pro"}'::JSON AS properties FROM events)
       WHERE type = 'track' AND properties->>'plan' = 'pro'`,
    );
    const arrows = await run({ selectors: ['arrows'] });
    expect(arrows.models.find((m) => m.name === 'arrows')?.message).toMatch(
      /arrows\.sql line 2: Conversion Error.*\nLINE 2: +WHERE type = 'track'.*\nHint: DuckDB binds -> and ->> more loosely/s,
    );
    rmSync(join(temp.dir, 'project', 'models', 'arrows.sql'));
    // A seed whose quote never closes was read as one column named "id,name"; now it fails by name.
    project('seeds/plans.csv', 'id,name\n1,free\n"unterminated\n');
    const seeds = await run({ selectors: ['plans'] });
    expect(statuses(seeds)).toEqual({ plans: 'failed' });
    expect(seeds.models[0]?.message).toMatch(
      /plans\.csv: not a CSV file a seed can be \(comma-separated, a header row, every row as many fields as the header, every quote closed\)/,
    );
    // A header narrower than every row under it was passed over: the first row became the header
    // (columns "1", "free", "x") and was lost.
    project('seeds/plans.csv', 'id,name\n1,free,x\n2,team,y\n');
    const wide = await run({ selectors: ['plans'] });
    expect(wide.models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /plans\.csv: not a CSV file a seed can be \(comma-separated, a header row, every row as many fields as the header/,
      ),
    });
    // An empty file was built as one column named column0.
    project('seeds/plans.csv', '');
    expect((await run({ selectors: ['plans'] })).models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /plans\.csv: the file is empty; a seed needs a header row naming its columns/,
      ),
    });
    project('seeds/plans.csv', 'id,name,note\n1,free,"a, b"\n2,team,\n');
    expect(statuses(await run({ selectors: ['plans'] }))).toEqual({ plans: 'success' });
    // A spreadsheet's semicolon-separated export came out as one column named "id;name".
    project('seeds/plans.csv', 'id;name\r\n1;free\r\n2;team\r\n');
    const semicolons = await run({ selectors: ['plans'] });
    expect(semicolons.models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /plans\.csv: its header "id;name" is one column with ; in it; a seed is comma-separated/,
      ),
    });
    expect(await rows('SELECT column_name FROM (DESCRIBE plans)')).toEqual([['id'], ['name'], ['note']]);
    rmSync(join(temp.dir, 'project', 'seeds', 'plans.csv'));
  });

  it("a seed's column_types keep a zip code's leading zero, and a wrong column or type fails by name", async () => {
    project('seeds/offices.csv', 'zip,city,staff\n01234,Aoba,3\n98765,Kita,12\n');
    project('seeds/offices.yaml', 'column_types: { zip: varchar, staff: smallint }\n');
    expect(statuses(await run({ selectors: ['offices'] }))).toEqual({ offices: 'success' });
    expect(await rows('SELECT zip, city, staff FROM offices ORDER BY zip')).toEqual([
      ['01234', 'Aoba', 3],
      ['98765', 'Kita', 12],
    ]);
    expect(await rows("SELECT column_type FROM (DESCRIBE offices) WHERE column_name = 'staff'")).toEqual([
      ['SMALLINT'],
    ]);
    const fails = async (yaml: string, message: RegExp) => {
      project('seeds/offices.yaml', yaml);
      const result = await run({ selectors: ['offices'] });
      expect(result.models[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(message) });
    };
    await fails(
      'column_types: { zipcode: varchar }\n',
      /offices\.yaml: column_types names zipcode, which offices\.csv has no column of; its columns are zip, city, staff/,
    );
    await fails(
      'column_types: { zip: varchr }\n',
      /offices\.yaml: column_types: zip: "varchr" is not a DuckDB type \(Did you mean "varchar"\?\)/,
    );
    await fails(
      'column_types: { city: integer }\n',
      /offices\.csv line 2: "Aoba" in column city is not a INTEGER, as column_types in offices\.yaml has it; correct the value or the type/,
    );
    // The last good version is what readers keep.
    expect(await rows("SELECT zip FROM offices WHERE city = 'Aoba'")).toEqual([['01234']]);
    rmSync(join(temp.dir, 'project', 'seeds', 'offices.csv'));
    rmSync(join(temp.dir, 'project', 'seeds', 'offices.yaml'));
  });

  it("a seed's column_types and a model's unique_key name columns in any case, as DuckDB matches them", async () => {
    project('seeds/branches.csv', 'Zip,City\n01234,Aoba\n');
    project('seeds/branches.yaml', 'column_types: { zip: varchar }\n');
    expect(statuses(await run({ selectors: ['branches'] }))).toEqual({ branches: 'success' });
    expect(await rows('SELECT "Zip", City FROM branches')).toEqual([['01234', 'Aoba']]);
    project('seeds/branches.yaml', 'column_types: { zip: varchar, city: integer }\n');
    expect((await run({ selectors: ['branches'] })).models[0]?.message).toMatch(
      /branches\.csv line 2: "Aoba" in column City is not a INTEGER, as column_types in branches\.yaml has it/,
    );
    project('seeds/branches.yaml', 'column_types: { zip: varchar, ZIP: integer }\n');
    expect((await run({ selectors: ['branches'] })).models[0]?.message).toMatch(
      /branches\.yaml: column_types names column Zip twice \(zip and ZIP\)/,
    );
    rmSync(join(config.project_dir, 'seeds', 'branches.csv'));
    rmSync(join(config.project_dir, 'seeds', 'branches.yaml'));

    const model = (values: string) =>
      `/*---\nmaterialized: incremental\nunique_key: [User_ID]\n---*/\nSELECT * FROM (VALUES ${values}) t(user_id, plan)`;
    project('models/plans_by_user.sql', model("('u1', 'free'), ('u2', 'team')"));
    expect((await run({ selectors: ['plans_by_user'] })).models[0]).toMatchObject({ status: 'success' });
    project('models/plans_by_user.sql', model("('u1', 'business')"));
    expect((await run({ selectors: ['plans_by_user'] })).models[0]).toMatchObject({
      status: 'success',
      mode: 'merge',
    });
    expect(await rows('SELECT user_id, plan FROM plans_by_user ORDER BY 1')).toEqual([
      ['u1', 'business'],
      ['u2', 'team'],
    ]);
    rmSync(join(config.project_dir, 'models', 'plans_by_user.sql'));
  });

  it('a PIVOT that DuckDB runs as more than one statement is told to list its values; one that does builds', async () => {
    const input = "(SELECT * FROM (VALUES ('free', 1), ('team', 2)) t(plan, n))";
    project('models/pivoted.sql', `-- plans as columns\nSELECT * FROM (PIVOT ${input} ON plan USING sum(n))`);
    expect((await run({ selectors: ['pivoted'] })).models[0]?.message).toMatch(
      /pivoted\.sql: a model must be one SELECT, and DuckDB runs a PIVOT without IN \(…\) as more than one statement; list the values it pivots on/,
    );
    project('models/pivoted.sql', `PIVOT ${input} ON plan IN ('free', 'team') USING sum(n)`);
    expect((await run({ selectors: ['pivoted'] })).models[0]).toMatchObject({ status: 'success', rows: 1 });
    project('models/pivoted.sql', '-- a pivot table, later\nCREATE TABLE x AS SELECT 1');
    expect((await run({ selectors: ['pivoted'] })).models[0]?.message).toMatch(
      /pivoted\.sql: a model must be one SELECT statement$/,
    );
    rmSync(join(config.project_dir, 'models', 'pivoted.sql'));
  });

  it('a seed whose header names a column twice, in any case, or leaves one unnamed fails by name', async () => {
    const fails = async (csv: string, message: string) => {
      project('seeds/twice.csv', csv);
      const [model] = (await run({ selectors: ['twice'] })).models;
      expect(model).toMatchObject({
        status: 'failed',
        message: `${join(config.project_dir, 'seeds', 'twice.csv')}: ${message}`,
      });
    };
    await fails(
      'id,name,ID\n1,a,2\n',
      'its header names the column id (and ID) twice, and column names match whatever their case; give each column its own name.',
    );
    await fails(
      'id,,name\n1,2,3\n',
      'field 2 of its header is empty, so the column has no name; give it one in the header row.',
    );
    project('seeds/twice.csv', 'id,name\n1,a\n');
    expect(statuses(await run({ selectors: ['twice'] }))).toEqual({ twice: 'success' });
    rmSync(join(config.project_dir, 'seeds', 'twice.csv'));
  });

  it('a model that outputs two columns of one name fails by name, rather than publish one renamed a_1', async () => {
    project(
      'models/twice.sql',
      'WITH t AS (SELECT 1 AS a, 2 AS b)\nSELECT a, b AS A, b, a, b FROM t -- two of each',
    );
    const result = await run({ selectors: ['twice'] });
    expect(result.models[0]).toMatchObject({
      status: 'failed',
      message:
        'twice outputs more than one column named a (a, A, a) and b (b, b), which DuckDB would rename a_1 and so on; give each its own name with AS.',
    });
    project('models/twice.sql', 'SELECT 1 AS a, 2 AS b;');
    expect((await run({ selectors: ['twice'] })).models[0]).toMatchObject({ status: 'success' });
    rmSync(join(config.project_dir, 'models', 'twice.sql'));
  });

  it('a model, its sql: test and a tests/ file may end with ; and a comment after it, as a query may', async () => {
    // Set inside parentheses whole, "SELECT 1 AS x; -- the end" failed with DuckDB's syntax error at ";".
    project('models/ended.sql', 'SELECT 1 AS x; -- the end\n');
    project(
      'models/ended.yaml',
      'tests:\n  - name: ones\n    sql: "SELECT * FROM {{ this }} WHERE x <> 1; /* none */"\n',
    );
    project('tests/ended_ones.sql', "SELECT * FROM {{ ref('ended') }} WHERE x <> 1;\n-- none\n");
    const result = await run({ selectors: ['ended'] });
    expect(result.models[0]).toMatchObject({ name: 'ended', status: 'success', rows: 1 });
    expect(result.models[0]?.tests.map((t) => [t.name, t.status])).toEqual([['ones', 'pass']]);
    const tested = await testModels({ config, selectors: ['ended'] });
    expect(tested.tests.map((t) => [t.name, t.status])).toEqual([
      ['ones', 'pass'],
      ['ended_ones', 'pass'],
    ]);
    rmSync(join(config.project_dir, 'tests', 'ended_ones.sql'));
    for (const file of ['ended.sql', 'ended.yaml']) rmSync(join(config.project_dir, 'models', file));
  });

  it("a file where a model's folder of the lake goes fails that model by name; the others build", async () => {
    // The build tidied the folder's old versions with readdir: ENOTDIR ended inlet run (exit 5) as
    // an error inlet did not foresee, and no other model was built.
    const inTheWay = join(config.data_dir, 'lake', 'marts', 'in_the_way');
    mkdirSync(dirname(inTheWay), { recursive: true });
    writeFileSync(inTheWay, 'notes\n');
    project('models/in_the_way.sql', 'SELECT 1 AS x');
    project('models/beside_it.sql', 'SELECT 2 AS x');
    const result = await run({ selectors: ['in_the_way', 'beside_it'] });
    expect(statuses(result)).toEqual({ in_the_way: 'failed', beside_it: 'success' });
    expect(result.models.find((m) => m.name === 'in_the_way')?.message).toBe(
      `in_the_way: ${inTheWay} is a file where inlet keeps the folder of its table; move it out of the lake.`,
    );
    rmSync(inTheWay);
    for (const name of ['in_the_way', 'beside_it']) rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model or a test whose file holds a NUL byte fails by name, and the run goes on', async () => {
    // Set in a SQL string for DuckDB's parser, the NUL ended it: inlet run stopped with "an error
    // inlet did not foresee: Parser Error: unterminated quoted string" (exit 5), building nothing.
    project('models/with_nul.sql', 'SELECT 1 AS x\nFROM range(1)\u0000');
    project('models/after_nul.sql', 'SELECT 2 AS x');
    const result = await run({ selectors: ['with_nul', 'after_nul'] });
    expect(statuses(result)).toEqual({ with_nul: 'failed', after_nul: 'success' });
    expect(result.models.find((m) => m.name === 'with_nul')?.message).toBe(
      `${join(config.project_dir, 'models', 'with_nul.sql')}: a model holds a NUL character (a zero byte) on line 2, which SQL cannot hold; remove it (a file saved as UTF-16 has one in every other byte: save it as UTF-8).`,
    );
    for (const name of ['with_nul', 'after_nul']) rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model reads the lake and its project, and no other file or the network', async () => {
    const outside = join(temp.dir, 'outside.csv');
    writeFileSync(outside, 'secret\nx\n');
    project('models/reads_outside.sql', `SELECT * FROM read_csv('${outside}')`);
    project('models/reads_text.sql', "SELECT * FROM read_text('/etc/hostname')");
    project('models/reads_web.sql', "SELECT * FROM read_csv('https://example.com/x.csv')");
    project('inside.csv', 'kept\ny\n');
    project('models/reads_inside.sql', `SELECT * FROM read_csv('${join(config.project_dir, 'inside.csv')}')`);
    const result = await run({ selectors: ['reads_outside', 'reads_text', 'reads_web', 'reads_inside'] });
    expect(statuses(result)).toEqual({
      reads_outside: 'failed',
      reads_text: 'failed',
      reads_web: 'failed',
      reads_inside: 'success',
    });
    for (const name of ['reads_outside', 'reads_text', 'reads_web'])
      expect(result.models.find((m) => m.name === name)?.message).toMatch(/Permission Error/);
    expect(await rows('SELECT kept FROM reads_inside')).toEqual([['y']]);
    for (const name of ['reads_outside', 'reads_text', 'reads_web', 'reads_inside'])
      rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model may not call a table function that changes the build engine, writes files or runs SQL from text', async () => {
    // enable_logging wrote its log files into the lake (outside the model's table), and aborted the
    // whole process given a directory outside the allowed ones; lock_configuration stops neither.
    const logs = join(config.data_dir, 'lake', 'events', 'logs');
    const models: Record<string, string> = {
      logs_to_lake: `SELECT * FROM enable_logging(storage := 'file', storage_path := '${logs}')`,
      sql_from_text: "SELECT * FROM range(1) r, query('SELECT 1 AS one') q",
      serialized_sql: "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1 AS one'))",
    };
    for (const [name, sql] of Object.entries(models)) project(`models/${name}.sql`, sql);
    const result = await run({ selectors: Object.keys(models) });
    expect(statuses(result)).toEqual({
      logs_to_lake: 'failed',
      sql_from_text: 'failed',
      serialized_sql: 'failed',
    });
    expect(result.models.find((m) => m.name === 'logs_to_lake')?.message).toContain(
      'enable_logging() changes the DuckDB that builds every model',
    );
    expect(existsSync(logs)).toBe(false);
    for (const name of Object.keys(models)) rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model another process is building fails with MODEL_BUSY; a lock its dead holder left is taken over', async () => {
    const other = killedAfterwards(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']));
    const lock = join(config.data_dir, 'state', 'locks', 'model-feature_daily.lock');
    mkdirSync(dirname(lock), { recursive: true });
    writeFileSync(lock, `${other.pid}\n`);
    const busy = await run({ selectors: ['feature_daily+'] });
    expect(statuses(busy)).toEqual({ feature_daily: 'failed', feature_totals: 'skipped' });
    expect(busy.models[0]?.message).toBe(
      `feature_daily is being built by another inlet process (pid ${other.pid}); run it again once that build is done.`,
    );
    other.kill('SIGKILL');
    await once(other, 'exit');
    const after = await run({ selectors: ['feature_daily+'] });
    expect(statuses(after)).toEqual({ feature_daily: 'success', feature_totals: 'success' });
    expect(existsSync(lock)).toBe(false);
  });

  it('a model that reads a table not in the lake yet is skipped when it says so, failed otherwise', async () => {
    project('models/traffic.sql', 'SELECT path, count(*) AS hits FROM access_logs GROUP BY ALL');
    project('models/traffic.yaml', 'skip_when_missing: [access_logs]');
    project('models/typo.sql', 'SELECT * FROM evnets');
    project('models/never_built.sql', 'SELECT 1 AS x');
    project('models/reads_unbuilt.sql', "SELECT * FROM {{ ref('never_built') }}");
    const result = await run({ selectors: ['traffic', 'typo', 'reads_unbuilt'] });
    expect(statuses(result)).toEqual({ traffic: 'skipped', typo: 'failed', reads_unbuilt: 'failed' });
    expect(result.models.find((m) => m.name === 'traffic')?.message).toBe(
      'access_logs is not in the lake yet, so traffic waits for it',
    );
    expect(result.models.find((m) => m.name === 'typo')?.message).toMatch(
      /reads evnets, which is not a table or view in the lake/,
    );
    expect(result.models.find((m) => m.name === 'reads_unbuilt')?.message).toBe(
      'reads_unbuilt needs never_built, which has not been built yet (run inlet run +reads_unbuilt to build it too)',
    );
    expect(existsSync(join(config.data_dir, 'lake', 'marts', 'traffic'))).toBe(false);
    // {{ this }} outside {% if is_incremental %}: building it first would not help.
    project(
      'models/reads_itself.sql',
      "/*---\nmaterialized: incremental\nunique_key: user_id\n---*/\nSELECT user_id, max(ts) AS last_ts FROM events WHERE ts > (SELECT coalesce(max(last_ts), TIMESTAMPTZ '2000-01-01') FROM {{ this }}) GROUP BY ALL",
    );
    const itself = await run({ selectors: ['reads_itself'] });
    expect(itself.models[0]?.message).toBe(
      'reads_itself reads {{ this }}, its own table, which does not exist before its first build; put what reads it inside {% if is_incremental %}…{% endif %}',
    );
    // A table model is never incremental: that advice would drop the read on every build.
    project('models/reads_itself.sql', 'SELECT * FROM {{ this }}');
    expect((await run({ selectors: ['reads_itself'] })).models[0]?.message).toBe(
      'reads_itself reads {{ this }}, its own table, which does not exist before its first build; a table model is built whole each time, so make it materialized: incremental to add to what it built before',
    );
    rmSync(join(config.project_dir, 'models', 'reads_itself.sql'));
  });

  it('a CTE named after the table it reads still counts that table as an input', async () => {
    project(
      'models/server_errors.sql',
      'WITH access_logs AS (SELECT * FROM access_logs WHERE status >= 500) SELECT path, count(*) AS errors FROM access_logs GROUP BY ALL',
    );
    project('models/server_errors.yaml', 'skip_when_missing: [access_logs]');
    project(
      'models/signed_in.sql',
      'WITH events AS (SELECT * FROM events WHERE user_id IS NOT NULL), counted AS (SELECT count(*) AS n FROM events) SELECT n FROM counted',
    );
    project(
      'models/countdown.sql',
      'WITH RECURSIVE countdown(n) AS (SELECT 3 UNION ALL SELECT n - 1 FROM countdown WHERE n > 1) SELECT n FROM countdown',
    );
    const result = await run({ selectors: ['countdown', 'server_errors', 'signed_in'] });
    expect(result.models.map((m) => [m.name, m.status, m.inputs])).toEqual([
      ['countdown', 'success', []],
      ['server_errors', 'skipped', ['access_logs']],
      ['signed_in', 'success', ['events']],
    ]);
    expect(readLakeTable(join(config.data_dir, 'lake', 'marts', 'signed_in'))?.depends_on).toEqual([
      'events',
    ]);
    for (const file of ['countdown.sql', 'server_errors.sql', 'server_errors.yaml', 'signed_in.sql'])
      rmSync(join(config.project_dir, 'models', file));
  });
});
