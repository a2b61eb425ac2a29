import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedOutput, configIn, jsonLines, runCli, tempDir } from '../../test/helpers.ts';
import { spawnInlet, stopInlet } from '../../test/inlet-process.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { within } from '../../test/within.ts';
import { ExitCode } from './exit-codes.ts';
import { main } from './main.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());
const configPath = configIn(
  temp.dir,
  `data_dir: ./data
models: { builtin: false }
workflows:
  - { name: nightly, cron: "0 5 * * *", steps: [run one] }
  - { name: paused, cron: "0 5 * * *", steps: [run one], enabled: false }
  - { name: capped, cron: "0 5 * * *", steps: [run one], catchup_limit: 5 }
`,
);
writeProjectFile(join(temp.dir, 'project'), 'models/one.sql', 'SELECT 1 AS n');

/** Runs the inlet command in-process with this test's config; NDJSON output parsed too. */
const inlet = async (...argv: string[]) => {
  const run = await runCli([...argv, '--config', configPath]);
  return { ...run, lines: jsonLines(run.out) };
};

/** A project whose nightly loads beside a workflows/hourly.yaml with a bad cron, and hourly's error. */
const besideBrokenHourly = (name: string) => {
  const dir = join(temp.dir, name);
  const config = configIn(
    dir,
    'data_dir: ./data\nmodels: { builtin: false }\nworkflows:\n  - { name: nightly, cron: "0 5 * * *", steps: [run one] }\n',
  );
  writeProjectFile(join(dir, 'project'), 'models/one.sql', 'SELECT 1 AS n');
  writeProjectFile(join(dir, 'project'), 'workflows/hourly.yaml', 'cron: "99 * * * *"\nsteps: [run one]\n');
  const hourly = join(dir, 'project', 'workflows', 'hourly.yaml');
  const invalid = `${hourly} is not a valid workflow: cron: "99 * * * *" is not a cron expression: the minute field is 99; it takes 0-59, as a value, a list (1,5), a range (1-5) or a step (*/2)`;
  return { dir, config, invalid };
};

describe('inlet runs', () => {
  it('runs a workflow switched off when started by hand, and says on the terminal and in the run that its schedule does not', async () => {
    // enabled: false "keeps the workflow without running it", and inlet runs start ran it as any
    // other: nothing said the workflow was switched off, in the run or on the terminal.
    const note = `workflow "paused" is switched off (enabled: false in ${configPath}): its schedule does not run it; this run was started by hand`;
    const started = spawnInlet(['runs', 'start', 'paused', '--format', 'table', '--config', configPath]);
    expect(await started.exit).toBe(ExitCode.OK);
    expect(started.out).toMatch(/^Run \d+ of paused: success/);
    expect(started.out).toContain(`\n  note: ${note}\n`);
    expect(started.err).toContain(`WARN ${note}`);
    const id = String((await inlet('runs', '--workflow', 'paused')).lines[0]?.id);
    expect((await inlet('runs', id, '--format', 'json')).lines[0]).toMatchObject({
      workflow: 'paused',
      trigger: 'manual',
      status: 'success',
      note,
    });
    // A workflow that is switched on has no note.
    const on = await inlet('runs', 'start', 'nightly');
    expect([on.code, on.lines[0]?.note]).toEqual([ExitCode.OK, null]);
  });

  it('points a word that is no run id nor workflow to the list, and show <id> to inlet runs <id>', async () => {
    // inlet runs list, as git or docker read it, was told "inlet runs --workflow list lists the runs
    // of a workflow", which lists nothing; inlet runs show 12 was told only what inlet runs takes.
    const list = await inlet('runs', 'list');
    expect([list.code, list.err]).toEqual([
      ExitCode.USAGE,
      `"list" is neither a run id (a whole number) nor a workflow's name: inlet runs alone lists the runs, inlet runs 12 shows run 12, and inlet runs --workflow NAME lists the runs of one workflow (capped, nightly, paused).\n`,
    ]);
    // Where no workflow is configured the list is not "((none))".
    const bare = configIn(join(temp.dir, 'bare'), 'data_dir: ./data\nmodels: { builtin: false }\n');
    const none = await runCli(['runs', 'list', '--config', bare]);
    expect([none.code, none.err]).toEqual([
      ExitCode.USAGE,
      `"list" is neither a run id (a whole number) nor a workflow's name: inlet runs alone lists the runs, inlet runs 12 shows run 12, and inlet runs --workflow NAME lists the runs of one workflow (there are none yet).\n`,
    ]);
    const show = await inlet('runs', 'show', '12');
    expect([show.code, show.err]).toEqual([
      ExitCode.USAGE,
      'inlet runs has no "show": inlet runs 12 shows run 12.\n',
    ]);
    // A word that is no show is not pointed there: inlet runs stop 12 does not want to see run 12.
    expect((await inlet('runs', 'stop', '12')).err.split('\n')[0]).toBe(
      'inlet runs has no "stop": it takes a run id (inlet runs 12), start <workflow>, or nothing to list the runs.',
    );
    // A workflow's name still points to --workflow.
    expect((await inlet('runs', 'paused')).err).toBe(
      '"paused" is not a run id (a whole number); inlet runs --workflow paused lists the runs of a workflow.\n',
    );
  });

  it('lists and shows no runs on a fresh directory without making data_dir or its state store', async () => {
    // inlet runs only reads, and made data/state.sqlite (and data/) to say there were none.
    const dir = join(temp.dir, 'fresh');
    const config = configIn(dir, 'data_dir: ./data\n');
    const captured = capturedOutput();
    const list = await main(['runs', '--config', config], { ...captured.output, isTty: true }, {});
    expect([list, captured.err]).toEqual([
      ExitCode.OK,
      `No runs yet: none is recorded in ${join(dir, 'data', 'state.sqlite')}, where inlet start and inlet runs start record them.\n`,
    ]);
    const one = await runCli(['runs', '1', '--config', config]);
    expect([one.code, one.err]).toEqual([
      ExitCode.USAGE,
      'NOT_FOUND: No run has id 1; no workflow has run yet (inlet runs lists them).\n',
    ]);
    for (const argv of [
      ['runs', 'list'],
      ['runs', '--workflow', 'nightly'],
      ['runs', '--format', 'csv'],
    ])
      await runCli([...argv, '--config', config]);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('starts a workflow while another workflow file is invalid, warning of it, and refuses the invalid one itself', async () => {
    // A bad cron in workflows/hourly.yaml refused inlet runs start nightly, which it has nothing to do with.
    const { dir, config, invalid } = besideBrokenHourly('broken-other');
    const nightly = spawnInlet(['runs', 'start', 'nightly', '--format', 'json', '--config', config]);
    expect(await within(20_000, 'inlet runs start nightly to exit', nightly.exit)).toBe(ExitCode.OK);
    expect(jsonLines(nightly.out)[0]).toMatchObject({ workflow: 'nightly', status: 'success' });
    expect(nightly.err).toContain(
      `WARN workflow "hourly" does not load, and does not run until it is fixed; nightly runs all the same: ${invalid}`,
    );
    // A name no workflow that loads has is refused, after the warning, which says no more that it runs.
    const typo = spawnInlet(['runs', 'start', 'nightyl', '--config', config]);
    expect(await within(20_000, 'inlet runs start nightyl to exit', typo.exit)).toBe(ExitCode.USAGE);
    expect(typo.err).toContain(
      `WARN workflow "hourly" does not load, and does not run until it is fixed: ${invalid}`,
    );
    expect(typo.err).toContain(
      'NOT_FOUND: No workflow named "nightyl"; workflows: hourly (does not load: the warning above says why), nightly.\n',
    );
    // The invalid one is refused with its own problem, as before.
    const own = await runCli(['runs', 'start', 'hourly', '--config', config]);
    expect([own.code, own.err]).toEqual([
      ExitCode.CONFIG,
      `WORKFLOW_INVALID: ${invalid.replace('workflow: ', 'workflow:\n  ')}\n`,
    ]);
    // With no workflow that loads, a name none has said "none is configured: add one under
    // workflows: in inlet.yaml", of a project whose workflows/ holds one with a typo.
    const alone = join(dir, 'alone');
    const onlyBroken = configIn(alone, 'data_dir: ./data\nmodels: { builtin: false }\n');
    writeProjectFile(join(alone, 'project'), 'workflows/hourly.yaml', 'cron: "99 * * * *"\nsteps: [run]\n');
    const none = await runCli(['runs', 'start', 'nightly', '--config', onlyBroken]);
    expect(none.code).toBe(ExitCode.USAGE);
    expect(none.err).toContain(
      'NOT_FOUND: No workflow named "nightly"; workflows: hourly (does not load: the warning above says why).\n',
    );
    const unnamed = await runCli(['runs', 'start', '--config', onlyBroken]);
    expect(unnamed.err).toMatch(
      /^inlet runs start needs a workflow's name \(an unset variable\?\); workflows: hourly \(does not load: inlet runs start hourly says why\)\.\n/,
    );
    // inlet start leaves it out and runs the others (test/workflows-broken.test.ts).
  });

  it('lists the runs of a workflow that does not load, saying why it does not, rather than that none is configured', async () => {
    // inlet runs --workflow hourly said "names no workflow that is configured or has runs; workflows:
    // nightly." of the file the user had just written, and exited 2 without the line saying what is wrong in it.
    const { config, invalid } = besideBrokenHourly('broken-listed');
    const runs = await runCli(['runs', '--workflow', 'hourly', '--format', 'csv', '--config', config]);
    expect([runs.code, runs.out.split('\r\n')[0], runs.err]).toEqual([
      ExitCode.OK,
      'id,workflow,scheduled_for,trigger,status,started_at,duration_ms,error',
      `workflow "hourly" does not load, and does not run until it is fixed: ${invalid}\n`,
    ]);
    // A name no workflow has is still refused, naming the one that does not load among the workflows.
    const typo = await runCli(['runs', '--workflow', 'houryl', '--config', config]);
    expect([typo.code, typo.err]).toEqual([
      ExitCode.USAGE,
      '--workflow houryl names no workflow that is configured or has runs; workflows: hourly, nightly.\n',
    ]);
  });

  it('inlet start says which workflows are switched off, and how to run one, and of a catchup_limit that caps nothing', async () => {
    // The start-up line named every workflow found, "workflows": ["nightly", "paused"], as if each ran.
    const started = spawnInlet(['start', '--role', 'scheduler', '--config', configPath], {
      ...process.env,
      INLET_API_TOKEN: 'runs-token-0123456789',
      INLET_LOG_LEVEL: 'info',
    });
    try {
      await started.waitForOutput('inlet is running');
      const lines = jsonLines(started.out);
      expect(lines.filter((line) => line.workflow !== undefined)).toEqual([
        expect.objectContaining({
          level: 30,
          workflow: 'paused',
          msg: `workflow "paused" is switched off (enabled: false in ${configPath}): its schedule does not run it; inlet runs start paused runs it now`,
        }),
        // catchup_limit beside catchup: latest (the default) was taken without a word, and capped nothing.
        expect.objectContaining({
          level: 40,
          workflow: 'capped',
          msg: `workflow "capped" (${configPath}) gives catchup_limit: 5, which only catchup: all reads, and its catchup is latest, which runs only the latest missed time; remove catchup_limit, or set catchup: all`,
        }),
      ]);
    } finally {
      await stopInlet(started);
    }
  });
});
