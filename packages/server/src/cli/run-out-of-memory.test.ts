import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configIn, jsonLines, runCli, tempDir } from '../../test/helpers.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { ExitCode } from './exit-codes.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

// The least models.memory_limit inlet.yaml takes. A list of 20,000,000 numbers is one value of
// 160 MB, which DuckDB cannot spill, so the build runs out of memory at once, in well under a second.
const config = configIn(
  temp.dir,
  [
    'data_dir: ./data',
    'models:',
    '  builtin: false',
    '  memory_limit: 64MB',
    'workflows:',
    '  - { name: nightly, cron: "0 5 * * *", steps: [run] }',
  ].join('\n'),
  // Named otherwise than inlet.yaml, which the messages said whichever file --config gave.
  'other.yaml',
);
writeProjectFile(
  join(temp.dir, 'project'),
  'models/big.sql',
  'SELECT list(i) AS ids FROM range(20000000) t(i)',
);
writeProjectFile(join(temp.dir, 'project'), 'models/small.sql', 'SELECT 1 AS n');

const inlet = async (...argv: string[]) => {
  const run = await runCli([...argv, '--config', config]);
  return { ...run, lines: jsonLines(run.out) };
};

/** What a build that ran out of memory says: the model, the limit, what to do, then DuckDB's words. */
const SAID =
  /^Building big needed more memory than models\.memory_limit \(64MB\) allows, even with what did not fit spilled to .*data\/tmp\/models: raise models\.memory_limit in other\.yaml, or make big incremental \(materialized: incremental, so that a build adds only the new rows\) or filter the rows it reads\. DuckDB says: Out of Memory Error: [^\n]*$/;

// It said DuckDB's words alone (Out of Memory Error: failed to allocate data of size …), which named
// neither the setting nor what to do, and the run's error said only "models failed: big".
describe('a model whose build needs more than models.memory_limit', () => {
  it('inlet run names the model, the limit and what to do, and fails as any failed build does (exit 1)', async () => {
    const run = await inlet('run');
    expect(run.code).toBe(ExitCode.FAILURE);
    const big = run.lines.find((line) => line.name === 'big');
    expect(big).toMatchObject({
      status: 'failed',
      code: 'QUERY_OUT_OF_MEMORY',
      message: expect.stringMatching(SAID),
    });
    // The others are built.
    expect(run.lines.find((line) => line.name === 'small')).toMatchObject({ status: 'success' });
  });

  it("a workflow's run step fails with it, so the run history's error says what to do", async () => {
    const started = await inlet('runs', 'start', 'nightly');
    expect(started.code).toBe(ExitCode.FAILURE);
    expect(started.lines[0]).toMatchObject({ status: 'failed' });
    const error = String(started.lines[0]?.error);
    expect(error.startsWith('run: models failed: big; ')).toBe(true);
    expect(error.slice('run: models failed: big; '.length)).toMatch(SAID);
  });

  it('a data test that needs more says so too, and what to do', async () => {
    // It said DuckDB's words alone. A project of its own: its model's build fails on the test.
    const dir = join(temp.dir, 'tested');
    const own = configIn(
      dir,
      'data_dir: ./data\nmodels:\n  builtin: false\n  memory_limit: 64MB\n',
      'tested.yaml',
    );
    writeProjectFile(join(dir, 'project'), 'models/small.sql', 'SELECT 1 AS n');
    await runCli(['run', '--config', own]);
    writeProjectFile(
      join(dir, 'project'),
      'models/small.yaml',
      'tests:\n  - name: heavy\n    sql: SELECT n, (SELECT list(i) FROM range(20000000) t(i)) AS ids FROM {{ this }}\n',
    );
    const tested = await runCli(['test', '--config', own]);
    expect(tested.code).toBe(ExitCode.FAILURE);
    const heavy = jsonLines(tested.out).find((line) => line.name === 'heavy');
    expect(heavy).toMatchObject({ status: 'error' });
    // It said inlet.yaml whichever file --config gave, and data/tmp/models wherever data_dir was.
    const said = ` The test needed more memory than models.memory_limit (64MB) allows, even with what did not fit spilled to ${join(dir, 'data', 'tmp', 'models')}: raise models.memory_limit in tested.yaml, or make the test read fewer rows (filter them in its SQL)`;
    expect(String(heavy?.message)).toMatch(/^Out of Memory Error: [^\n]* The test/);
    expect(String(heavy?.message).slice(-said.length)).toBe(said);
  });
});
