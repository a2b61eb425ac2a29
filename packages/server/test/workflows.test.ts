import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { acquireProcessLock, openStateStore } from '../src/state/index.ts';
import { API_TOKEN, basicAuth, segmentMessage, startTestInlet, tempDir } from './helpers.ts';
import { exited, inletConfigFile, startInletProcess } from './inlet-process.ts';
import { writeProjectFile } from './lake-fixtures.ts';

// The server composes the scheduler, the run history and the catalog: a workflow run started in
// the running server builds a mart from events sent to its collector, and the API shows both.
const project = tempDir();
let inlet: Awaited<ReturnType<typeof startTestInlet>>;

beforeAll(async () => {
  writeProjectFile(
    project.dir,
    'models/signups_daily.sql',
    "/*---\ndescription: Signups per day.\n---*/\nSELECT dt, count(*)::INT AS signups FROM events WHERE name = 'signup' GROUP BY ALL",
  );
  inlet = await startTestInlet({
    project_dir: project.dir,
    models: { builtin: false },
    workflows: [{ name: 'nightly', cron: '0 5 * * *', steps: ['run', 'test'] }],
  });
});
afterAll(async () => {
  await inlet.cleanup();
  project.cleanup();
});

const api = async (path: string) => {
  const response = await fetch(`${inlet.url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
};

describe('workflows in the running server', () => {
  it('runs a workflow, records it, and serves the run and the mart it built', async () => {
    const response = await fetch(`${inlet.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify({ batch: [segmentMessage('w-1'), segmentMessage('w-2')] }),
    });
    expect(response.status).toBe(200);
    await inlet.loader.runOnce({ sealNow: true });
    const id = inlet.scheduler.trigger('nightly');
    await inlet.scheduler.idle();
    expect(await api(`/api/runs/${id}`)).toMatchObject({
      workflow: 'nightly',
      status: 'success',
      steps: [
        { step: 'run', status: 'success' },
        { step: 'test', status: 'success' },
      ],
    });
    expect(await api('/api/catalog/signups_daily')).toMatchObject({
      rows: 1,
      description: 'Signups per day.',
      upstream: ['events'],
    });
    const query = await fetch(`${inlet.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ sql: 'SELECT signups FROM signups_daily' }),
    });
    expect(((await query.json()) as { rows: unknown[][] }).rows).toEqual([[2]]);
  });
});

const HOURLY =
  'workflows:\n  - { name: hourly, cron: "0 * * * *", catchup: all, retries: 1, retry_backoff: 1h, steps: [run] }\n';
type Run = { id: number; status: string; started_at: string | null; error: string | null };

const RESTART_BASE = 'project_dir: ./project\nmodels: { builtin: false }\n';

/** The runs of hourly of the inlet at url, oldest first. */
async function hourlyRuns(url: string): Promise<Run[]> {
  const response = await fetch(`${url}/api/runs?workflow=hourly`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  return ((await response.json()) as { runs: Run[] }).runs.reverse();
}

/**
 * Stops inlet (SIGTERM) in dir with two scheduled runs of hourly waiting their turn: three missed
 * hours caught up with catchup: all; the first waits an hour to retry its step (another process
 * builds its model), the two behind it wait. Resolves with the runs as they were.
 */
async function stopWithTwoWaiting(dir: string): Promise<Run[]> {
  writeProjectFile(join(dir, 'project'), 'models/one.sql', 'SELECT 1 AS x');
  const { config, url } = await inletConfigFile(dir, `${RESTART_BASE}${HOURLY}`);
  const data = join(dir, 'data');
  // The scheduler last looked half past the hour three hours ago: 3 hours are owed (3.5 hours
  // before now owed 4 in the second half of an hour).
  const hour = 3_600_000;
  const state = openStateStore(join(data, 'state.sqlite'));
  state.setCheckpoint('scheduler:cursor', 'hourly', {
    at: Math.floor(Date.now() / hour) * hour - 2.5 * hour,
  });
  state.close();
  // Another process builds the model, so the first run's step fails and waits to retry.
  mkdirSync(join(data, 'state', 'locks'), { recursive: true });
  const modelLock = acquireProcessLock(
    join(data, 'state', 'locks', 'model-one.lock'),
    () => new Error('busy'),
  );
  const child = await startInletProcess(config, url, API_TOKEN);
  let first: Run[] = [];
  // Stopped whether or not the runs came as expected: a failed wait left it running for good.
  try {
    await vi.waitFor(
      async () => {
        // A fourth comes due if the hour turns meanwhile.
        first = (await hourlyRuns(url)).slice(0, 3);
        expect(first.map((r) => r.started_at === null)).toEqual([false, true, true]);
      },
      { timeout: 20_000, interval: 200 },
    );
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    modelLock.release();
  }
  return first;
}

/**
 * inlet started again, with workflows: as then gives them (or none), on a copy of the data and
 * project stopWithTwoWaiting left in stopped; check runs while it is up. The stop is made once for
 * every test, each of which starts on a copy of its own.
 */
async function restartWithTwoWaiting(
  stopped: { dir: string; first: Run[] },
  then: string,
  check: (restart: { url: string; dir: string; runs: () => Promise<Run[]>; first: Run[] }) => Promise<void>,
) {
  const dir = tempDir('inlet-restart-');
  try {
    for (const folder of ['data', 'project'])
      cpSync(join(stopped.dir, folder), join(dir.dir, folder), { recursive: true });
    const { config, url } = await inletConfigFile(dir.dir, `${RESTART_BASE}${then}`);
    const child = await startInletProcess(config, url, API_TOKEN);
    try {
      await check({ url, dir: dir.dir, runs: () => hourlyRuns(url), first: stopped.first });
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  } finally {
    dir.cleanup();
  }
}

describe('workflow runs across a restart', () => {
  const stopped = { ...tempDir('inlet-restart-'), first: [] as Run[] };
  beforeAll(async () => {
    stopped.first = await stopWithTwoWaiting(stopped.dir);
  });
  afterAll(() => stopped.cleanup());

  it('runs the scheduled runs that waited their turn when inlet stopped after it starts again, not as failed', async () => {
    // Three missed hours caught up with catchup: all; the first waits an hour to retry its step, the
    // two behind it wait their turn. SIGTERM then recorded all three failed ("inlet stopped while the
    // run was going") and the two never attempted never ran. The first is stopped now: its retry
    // never came, so nothing says it would have failed.
    await restartWithTwoWaiting(stopped, HOURLY, async ({ runs, first }) => {
      await vi.waitFor(
        async () =>
          expect((await runs()).slice(0, 3).map((r) => r.status)).toEqual(['stopped', 'success', 'success']),
        { timeout: 20_000, interval: 200 },
      );
      const after = (await runs()).slice(0, 3);
      expect(after.map((r) => r.id)).toEqual(first.map((r) => r.id));
      expect(after[0]?.error).toBe('run: inlet stopped while the run was going');
    });
  }, 60_000);

  it('ends the runs kept for a workflow removed from inlet.yaml before the restart as abandoned, counted once', async () => {
    // They stayed running with an empty owner for ever: no scheduler takes up a workflow it lacks.
    await restartWithTwoWaiting(stopped, '', async ({ runs, first, url, dir }) => {
      const why = `workflow "hourly" is no longer in inlet.yaml or ${join(dir, 'project', 'workflows')}/; the run never started (it waited its turn when inlet stopped)`;
      await vi.waitFor(
        async () =>
          expect((await runs()).slice(0, 3)).toMatchObject([
            { id: first[0]?.id, status: 'stopped' },
            { id: first[1]?.id, status: 'abandoned', started_at: null, error: why },
            { id: first[2]?.id, status: 'abandoned', started_at: null, error: why },
          ]),
        { timeout: 20_000, interval: 200 },
      );
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
        /^inlet_workflow_runs_total\{workflow="hourly",status="abandoned"\} 2$/m,
      );
    });
  }, 60_000);
});
