import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configIn, jsonLines, runCli, tempDir } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { dataLayout } from '../lake/index.ts';

const temp = tempDir();
const configPath = configIn(temp.dir, 'data_dir: ./data\nmodels: { builtin: false }\n');

/** Runs the inlet command in-process with this test's config. */
const inlet = async (...argv: string[]) => {
  const run = await runCli([...argv, '--config', configPath]);
  return { ...run, lines: jsonLines(run.out) };
};

beforeAll(async () => {
  await writeEvents(dataLayout(join(temp.dir, 'data')), [{ ts: '2026-11-20T10:00:00Z', name: 'export' }]);
  const project = join(temp.dir, 'project');
  writeProjectFile(
    project,
    'models/daily.sql',
    '/*---\ncolumns:\n  dt: { tests: [unique] }\n---*/\nSELECT dt, count(*)::INT AS events FROM events GROUP BY ALL',
  );
  writeProjectFile(project, 'models/weekly.sql', "SELECT sum(events)::INT AS events FROM {{ ref('daily') }}");
});
afterAll(() => temp.cleanup());

describe('selectors that pick nothing', () => {
  // An intersection that meets nowhere, or an --exclude of all that was selected, picked nothing:
  // inlet ls printed nothing, inlet run "Done: 0 built" and inlet test "0 passed", all exit 0, as if
  // the project had nothing to build or test. dbt says "Nothing to do" there.
  const said = (command: string, given: string, did: string) =>
    `Nothing to do: the selectors ${given} pick no model or seed, so inlet ${command} ${did}. a,b (no spaces) picks only what both a and b pick, and --exclude leaves out what it names; inlet ls lists every model and seed.\n`;

  it('inlet ls, run and test say so, naming the selectors, and exit 0 as dbt does', async () => {
    const ls = await inlet('ls', 'daily,weekly');
    expect([ls.code, ls.out, ls.err]).toEqual([0, '', said('ls', 'daily,weekly', 'lists nothing')]);
    const run = await inlet('run', '-s', 'daily+', '--exclude', 'daily', 'weekly');
    expect([run.code, run.lines]).toEqual([0, []]);
    expect(run.err).toContain(said('run', 'daily+ --exclude daily weekly', 'builds nothing'));
    const test = await inlet('test', 'weekly', '--exclude', 'weekly');
    expect([test.code, test.lines]).toEqual([0, []]);
    expect(test.err).toContain(said('test', 'weekly --exclude weekly', 'runs no test'));
  });

  it('says nothing of the kind when the selectors pick models, with tests or without', async () => {
    const ls = await inlet('ls', 'weekly');
    expect([ls.code, ls.lines.map((l) => l.name), ls.err]).toEqual([0, ['weekly'], '']);
    const run = await inlet('run', 'daily+');
    expect(run.code).toBe(0);
    expect(run.err).not.toContain('Nothing to do');
    // weekly has no test: "0 passed" is the answer, not "nothing picked".
    const test = await inlet('test', 'weekly');
    expect([test.code, test.err]).toEqual([0, '0 passed, 0 failed.\n']);
  });
});

describe("a workflow's steps whose selectors pick nothing", () => {
  it('say so in the step log that inlet runs <id> shows, where the step built nothing and said nothing', async () => {
    const withWorkflow = configIn(
      temp.dir,
      `data_dir: ./data
models: { builtin: false }
workflows:
  - name: nightly
    cron: "0 5 * * *"
    steps: ["run -s daily+ --exclude daily weekly", "test weekly --exclude weekly", "test weekly"]
`,
      'workflow.yaml',
    );
    const started = await runCli(['runs', 'start', 'nightly', '--config', withWorkflow]);
    const id = jsonLines(started.out)[0]?.id;
    expect([started.code, typeof id]).toEqual([0, 'number']);
    const shown = await runCli(['runs', String(id), '--format', 'json', '--config', withWorkflow]);
    const steps = (jsonLines(shown.out)[0] as { steps: { step: string; status: string; log: string }[] })
      .steps;
    const note = (given: string, did: string) =>
      `Nothing to do: the selectors ${given} pick no model or seed, so the step ${did}. a,b (no spaces) picks only what both a and b pick, and --exclude leaves out what it names; inlet ls lists every model and seed.`;
    // Each line of a step's log starts with the time it was written.
    const lines = (log: string) =>
      log
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/^\S+Z /, ''));
    expect(steps.map((s) => [s.step, s.status, lines(s.log)])).toEqual([
      [
        'run -s daily+ --exclude daily weekly',
        'success',
        [note('daily+ --exclude daily weekly', 'builds nothing')],
      ],
      ['test weekly --exclude weekly', 'success', [note('weekly --exclude weekly', 'runs no test')]],
      // weekly has no test: nothing to say of a step that picked a model.
      ['test weekly', 'success', []],
    ]);
  });
});
