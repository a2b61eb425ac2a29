import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli/exit-codes.ts';
import { API_TOKEN, collectingStatuses, jsonLines, tempDir } from './helpers.ts';
import {
  type InletProcess,
  inletConfigFile,
  spawnInlet,
  spawnStartedInlet,
  stopInlet,
} from './inlet-process.ts';
import { writeProjectFile } from './lake-fixtures.ts';
import { within } from './within.ts';

// One workflow file with a typo kept inlet start from starting at all, collector included: a deploy
// with a bad cron stopped event collection. Airflow runs the other DAGs and shows the import error.
const temp = tempDir('inlet-broken-workflow-');
const env = { ...process.env, INLET_API_TOKEN: API_TOKEN, INLET_LOG_LEVEL: 'warn' };
const broken = join(temp.dir, 'project', 'workflows', 'hourly.yaml');
const invalid = `${broken} is not a valid workflow: cron: "99 * * * *" is not a cron expression: the minute field is 99; it takes 0-59, as a value, a list (1,5), a range (1-5) or a step (*/2)`;
let config = '';
let url = '';
let inlet: InletProcess;

beforeAll(async () => {
  writeProjectFile(join(temp.dir, 'project'), 'models/one.sql', 'SELECT 1 AS n');
  writeProjectFile(
    join(temp.dir, 'project'),
    'workflows/nightly.yaml',
    'cron: "0 5 * * *"\nsteps: [run one]\n',
  );
  writeProjectFile(
    join(temp.dir, 'project'),
    'workflows/hourly.yaml',
    'cron: "99 * * * *"\nsteps: [run one]\n',
  );
  ({ config, url } = await inletConfigFile(temp.dir, 'project_dir: ./project\nmodels: { builtin: false }\n'));
  inlet = await spawnStartedInlet(config, url, env);
}, 90_000);
afterAll(async () => {
  await stopInlet(inlet);
  temp.cleanup();
});

const api = async (path: string) => {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
};

describe('inlet start with one workflow file that does not load', () => {
  it('starts and collects, warning of the file with its error and that it does not run until fixed', async () => {
    expect(await collectingStatuses(url, 'broken-1')).toEqual({ health: 200, batch: 200 });
    // Logged (as JSON, on stdout) before the server listened; read from the pipe once it is there.
    await within(30_000, 'the warning in the log', inlet.waitForOutput('does not load'));
    expect(jsonLines<{ level: number; msg: string; origin: string }>(inlet.out)).toContainEqual(
      expect.objectContaining({
        level: 40,
        origin: broken,
        msg: `workflow "hourly" does not load, and does not run until it is fixed: ${invalid}`,
      }),
    );
  });

  it('lists the workflow that loads and the one that does not, with its error, in GET /api/workflows', async () => {
    expect(await api('/api/workflows')).toEqual({
      workflows: [
        {
          name: 'nightly',
          file: join(temp.dir, 'project', 'workflows', 'nightly.yaml'),
          cron: '0 5 * * *',
          timezone: 'UTC',
          enabled: true,
          steps: ['run one'],
        },
      ],
      not_loading: [
        {
          name: 'hourly',
          file: broken,
          code: 'WORKFLOW_INVALID',
          error: invalid.replace('workflow: ', 'workflow:\n  '),
        },
      ],
    });
  });

  it('runs the workflow that loads, refuses the broken one with its error, and inlet runs names it', async () => {
    const nightly = spawnInlet(['runs', 'start', 'nightly', '--format', 'json', '--config', config], env);
    expect(await within(60_000, 'inlet runs start nightly to exit', nightly.exit)).toBe(ExitCode.OK);
    expect(jsonLines(nightly.out)[0]).toMatchObject({ workflow: 'nightly', status: 'success' });
    const hourly = spawnInlet(['runs', 'start', 'hourly', '--config', config], env);
    expect(await within(60_000, 'inlet runs start hourly to exit', hourly.exit)).toBe(ExitCode.CONFIG);
    expect(hourly.err).toContain(`WORKFLOW_INVALID: ${invalid.replace('workflow: ', 'workflow:\n  ')}\n`);
    expect(await api('/api/runs')).toMatchObject({ runs: [{ workflow: 'nightly', status: 'success' }] });
    const list = spawnInlet(['runs', '--format', 'csv', '--config', config], env);
    expect(await within(60_000, 'inlet runs to exit', list.exit)).toBe(ExitCode.OK);
    expect(list.out).toContain(',nightly,');
    expect(list.err).toBe(
      `workflow "hourly" does not load, and does not run until it is fixed: ${invalid}\n`,
    );
  });
});
