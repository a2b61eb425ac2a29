import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { capturingLogger, configIn, STEADY, tempDir, testConfig } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { loadConfig, parseConfig, parseVarsYaml, workflowSchema } from '../config/index.ts';
import { createQueryEngine } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import type { Source } from '../sources/index.ts';
import { openStateStore } from '../state/index.ts';
import {
  createRunHistory,
  createScheduler,
  createStepHandlers,
  dueTimes,
  loadEachWorkflow,
  loadWorkflows,
  type RunHistory,
  STALE_RUN_MS,
  type Workflow,
} from './index.ts';
import { executeRun } from './workflow-executor.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());
const logger = createSilentLogger();
const HOUR = 3_600_000;
let n = 0;

/** Claims a manual run of hourly for a process of another host, which its heartbeats alone tell gone. */
const claimDead = (history: RunHistory) =>
  history.claim({
    workflow: 'hourly',
    scheduledFor: null,
    trigger: 'manual',
    owner: 'dead-host:1',
  }) as number;

const workflow = (input: Record<string, unknown>): Workflow => ({
  ...workflowSchema.parse({ name: 'hourly', cron: '0 * * * *', steps: ['sync counter'], ...input }),
  timezone: String(input.timezone ?? 'UTC'),
  origin: 'test',
});

/**
 * A real source through the sources contract: each sync records the moment it ran; it can be made
 * to fail its first attempts, or to hang until the run is stopped.
 */
function counterSource(behaviour: { failFirst?: number; hang?: boolean } = {}) {
  const syncs: number[] = [];
  let attempts = 0;
  const source: Source = {
    name: 'counter',
    type: 'test',
    async sync(context) {
      attempts++;
      if (behaviour.hang)
        await new Promise((_, reject) =>
          context.signal.addEventListener('abort', () => reject(new Error('stopped'))),
        );
      if (attempts <= (behaviour.failFirst ?? 0))
        throw new Error(`the database is not reachable (attempt ${attempts})`);
      syncs.push(Date.now());
      return { source: 'counter', rows: 1, tables: [{ table: 'counter.ticks', rows: 1 }] };
    },
  };
  return { source, syncs };
}

/** A real source whose every sync waits until release() is called, then succeeds. */
function gatedSource() {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const source: Source = {
    name: 'counter',
    type: 'test',
    async sync() {
      await gate;
      return { source: 'counter', rows: 1, tables: [] };
    },
  };
  return { source, release };
}

function setup(options: { source?: Source; statePath?: string } = {}) {
  const dataDir = join(temp.dir, `d${n++}`);
  const config = testConfig(dataDir, { project_dir: join(dataDir, 'project'), models: { builtin: false } });
  const state = openStateStore(options.statePath ?? join(dataDir, 'state.sqlite'));
  const history = createRunHistory(state);
  const stateDir = dataLayout(dataDir).state;
  const handlers = createStepHandlers({
    config,
    state,
    logger,
    sources: options.source ? [options.source] : [],
  });
  /** A scheduler over this setup's store, history and step handlers. */
  const scheduler = (
    more: Omit<
      Parameters<typeof createScheduler>[0],
      'state' | 'history' | 'handlers' | 'logger' | 'stateDir' | 'config'
    > & { config?: Parameters<typeof createScheduler>[0]['config'] },
  ) => createScheduler({ state, history, handlers, logger, stateDir, config, ...more });
  /** Runs the workflow nightly once to its end, as a trigger does; its run must succeed. */
  const runNightly = async (workflows: ReturnType<typeof loadWorkflows>) => {
    const once = scheduler({ workflows });
    try {
      const id = once.trigger('nightly');
      await once.idle();
      const run = history.get(id);
      expect(run?.status, JSON.stringify(run)).toBe('success');
      return run;
    } finally {
      await once.stop();
    }
  };
  return { config, state, history, handlers, scheduler, stateDir, runNightly };
}

/** The rows a query over the setup's lake answers. */
async function rowsOf(config: ReturnType<typeof setup>['config'], sql: string): Promise<unknown[][]> {
  const engine = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
  try {
    return (await engine.query(sql)).rows;
  } finally {
    engine.close();
  }
}

/** A scheduler of one workflow (hourly, with these keys), with its warnings captured. */
function withWarnings(source?: Source, keys: Record<string, unknown> = { steps: ['sync counter'] }) {
  const s = setup(source ? { source } : {});
  const { logger, lines } = capturingLogger<{ code?: string; error?: string; err?: unknown }>('warn');
  const scheduler = createScheduler({
    state: s.state,
    history: s.history,
    handlers: s.handlers,
    stateDir: s.stateDir,
    config: s.config,
    logger,
    workflows: [workflow(keys)],
  });
  return { s, lines, scheduler };
}

describe('due times', () => {
  const t0 = Date.parse('2026-11-20T00:30:00Z');
  const due = (catchup: 'all' | 'latest' | 'none', now: number, limit = 24) =>
    dueTimes({ cron: '0 * * * *', timezone: 'UTC', after: t0, now, catchup, limit }).map((t) =>
      new Date(t).toISOString().slice(11, 16),
    );

  it('catch-up after downtime: all missed times (bounded), only the latest, or none unless on time', () => {
    const later = t0 + 5 * HOUR;
    expect(due('all', later)).toEqual(['01:00', '02:00', '03:00', '04:00', '05:00']);
    expect(due('all', later, 2)).toEqual(['04:00', '05:00']);
    expect(due('latest', later)).toEqual(['05:00']);
    expect(due('none', later)).toEqual([]);
    expect(due('none', Date.parse('2026-11-20T05:00:30Z'))).toEqual(['05:00']);
  });

  it('after a downtime longer than a walk of its times, still runs the latest ones, and the on-time one', () => {
    // The walk from the last look stopped after 100,000 times: down for two days, a cron each second
    // ran 2026-11-21T04:16:40 as "latest" (20 hours late), and catchup: none skipped the
    // time that was on time; a cron each minute did so after 70 days down.
    const now = Date.parse('2026-11-22T00:30:00Z');
    const times = (cron: string, catchup: 'all' | 'latest' | 'none', downMs: number) =>
      dueTimes({ cron, timezone: 'UTC', after: now - downMs, now, catchup, limit: 3 }).map((t) =>
        new Date(t).toISOString(),
      );
    expect(times('* * * * * *', 'latest', 48 * HOUR)).toEqual(['2026-11-22T00:30:00.000Z']);
    expect(times('* * * * * *', 'none', 48 * HOUR)).toEqual(['2026-11-22T00:30:00.000Z']);
    expect(times('* * * * * *', 'all', 48 * HOUR)).toEqual([
      '2026-11-22T00:29:58.000Z',
      '2026-11-22T00:29:59.000Z',
      '2026-11-22T00:30:00.000Z',
    ]);
    expect(times('0 * * * *', 'latest', 100 * 24 * HOUR)).toEqual(['2026-11-22T00:00:00.000Z']);
    expect(times('0 5 1 1 *', 'latest', 3 * 365 * 24 * HOUR)).toEqual(['2026-01-01T05:00:00.000Z']);
  });

  it('reads the cron in the workflow time zone', () => {
    const times = dueTimes({
      cron: '0 5 * * *',
      timezone: 'Asia/Tokyo',
      after: t0,
      now: t0 + 48 * HOUR,
      catchup: 'all',
      limit: 10,
    });
    expect(times.map((t) => new Date(t).toISOString())).toEqual([
      '2026-11-20T20:00:00.000Z',
      '2026-11-21T20:00:00.000Z',
    ]);
  });
  it('runs each time once on the nights clocks change, as the scheduler ticks across them', () => {
    const ticked = (cron: string, timezone: string, from: string, hours: number) => {
      const times: number[] = [];
      const start = Date.parse(from);
      for (let after = start; after < start + hours * HOUR; after += 300_000)
        times.push(...dueTimes({ cron, timezone, after, now: after + 300_000, catchup: 'all', limit: 24 }));
      return times.map((t) => new Date(t).toISOString().slice(0, 16));
    };
    // Back: 01:30 comes twice (EDT, then EST); it runs the first time only.
    expect(ticked('30 1 * * *', 'America/New_York', '2026-11-01T04:00:00Z', 4)).toEqual(['2026-11-01T05:30']);
    expect(ticked('30 2 * * *', 'Europe/Berlin', '2026-10-24T23:00:00Z', 4)).toEqual(['2026-10-25T00:30']);
    expect(ticked('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual([
      '2026-11-01T05:00',
      '2026-11-01T06:00',
      '2026-11-01T07:00',
    ]);
    // Forward: 02:30 does not exist that night; it runs at 03:30 EDT rather than not at all.
    expect(ticked('30 2 * * *', 'America/New_York', '2026-03-08T05:00:00Z', 4)).toEqual(['2026-03-08T07:30']);
  });
});

describe('scheduler', () => {
  it('runs each scheduled time at most once with two schedulers on one state store', async () => {
    const { source, syncs } = counterSource();
    const a = setup({ source });
    const b = setup({ source, statePath: join(a.config.data_dir, 'state.sqlite') });
    let clock = Date.parse('2026-11-20T00:30:00Z');
    const wf = workflow({ catchup: 'all' });
    const make = (s: ReturnType<typeof setup>, owner: string) =>
      s.scheduler({
        workflows: [wf],
        now: () => clock,
        owner,
      });
    const one = make(a, 'process-a');
    const two = make(b, 'process-b');
    await Promise.all([one.tick(), two.tick()]);
    for (let hour = 0; hour < 6; hour++) {
      // An hour passes: the last hour's run is over (a process does not claim while one is going).
      await Promise.all([one.idle(), two.idle()]);
      clock += HOUR;
      // Both look at the same moment, in both orders.
      const claimed =
        hour % 2 === 0
          ? await Promise.all([one.tick(), two.tick()])
          : await Promise.all([two.tick(), one.tick()]);
      expect(claimed.flat()).toHaveLength(1);
    }
    await Promise.all([one.idle(), two.idle()]);
    expect(syncs).toHaveLength(6);
    const runs = a.history.list({ workflow: 'hourly' });
    expect(new Set(runs.map((r) => r.scheduled_for)).size).toBe(6);
    expect(new Set(runs.map((r) => r.owner))).toEqual(new Set(['process-a', 'process-b']));
    expect(runs.every((r) => r.status === 'success')).toBe(true);
    // A restart of either does not run those times again.
    const restarted = make(b, 'process-b-restarted');
    expect(await restarted.tick()).toEqual([]);
    await Promise.all([one.stop(), two.stop(), restarted.stop()]);
    a.state.close();
    b.state.close();
  });

  it('catches up after downtime as the workflow says: all (bounded), latest, none', async () => {
    const outcomes: Record<string, string[]> = {};
    for (const catchup of ['all', 'latest', 'none'] as const) {
      const { source } = counterSource();
      const s = setup({ source });
      const wf = workflow({ catchup, catchup_limit: 3 });
      let clock = Date.parse('2026-11-20T00:30:00Z');
      const make = () =>
        s.scheduler({
          workflows: [wf],
          now: () => clock,
        });
      const before = make();
      await before.tick();
      await before.stop();
      clock += 5 * HOUR; // down from 00:30 to 05:30
      const after = make();
      await after.tick();
      await after.idle();
      outcomes[catchup] = s.history
        .list()
        .map((r) => `${r.scheduled_for?.slice(11, 16)} ${r.trigger}`)
        .reverse();
      await after.stop();
      s.state.close();
    }
    expect(outcomes).toEqual({
      all: ['03:00 catchup', '04:00 catchup', '05:00 catchup'],
      latest: ['05:00 catchup'],
      none: [],
    });
  });

  it('a workflow whose times cannot be worked out fails alone; the others still run', async () => {
    const { source } = counterSource();
    const s = setup({ source });
    // cron-parser gives up on an hourly cron on Lord Howe Island after its clocks go back.
    const broken = { ...workflow({ name: 'island' }), timezone: 'Australia/Lord_Howe' };
    let clock = Date.parse('2026-04-04T13:30:00Z');
    const scheduler = s.scheduler({ workflows: [broken, workflow({ name: 'hourly' })], now: () => clock });
    await scheduler.tick();
    clock += HOUR;
    await scheduler.tick();
    await scheduler.idle();
    expect(s.history.list().map((r) => [r.workflow, r.scheduled_for])).toEqual([
      ['hourly', '2026-04-04T14:00:00.000Z'],
    ]);
    await scheduler.stop();
    s.state.close();
  });

  it('owes nothing for the times that came due while a workflow was disabled', async () => {
    const { source } = counterSource();
    const s = setup({ source });
    let clock = 0;
    const ticks: Array<[string, boolean]> = [
      ['00:30', true],
      ['02:30', false],
      ['04:30', false],
      ['06:20', false],
      ['06:30', true],
      ['07:00:30', true],
    ];
    for (const [time, enabled] of ticks) {
      clock = Date.parse(`2026-11-20T${time}Z`);
      const scheduler = s.scheduler({ workflows: [workflow({ catchup: 'all', enabled })], now: () => clock });
      await scheduler.tick();
      await scheduler.idle();
      await scheduler.stop();
    }
    // Disabled from 02:30 to 06:20: nothing of 01:00 to 06:00 runs once it is enabled again.
    expect(s.history.list().map((r) => `${r.scheduled_for?.slice(11, 16)} ${r.trigger}`)).toEqual([
      '07:00 schedule',
    ]);
    s.state.close();
  });

  it('times that come due while a run of the workflow is going are caught up after it, not queued', async () => {
    const { source, release } = gatedSource();
    const s = setup({ source });
    let clock = Date.parse('2026-11-20T00:00:30Z');
    const scheduler = s.scheduler({
      workflows: [workflow({ cron: '* * * * *' })],
      now: () => clock,
    });
    await scheduler.tick();
    clock += 60_000;
    expect(await scheduler.tick()).toHaveLength(1);
    for (let minute = 0; minute < 5; minute++) {
      clock += 60_000;
      expect(await scheduler.tick()).toEqual([]);
    }
    release();
    await scheduler.idle();
    await scheduler.tick();
    await scheduler.idle();
    expect(
      s.history
        .list()
        .map((r) => [r.scheduled_for?.slice(11, 16), r.trigger, r.status])
        .reverse(),
    ).toEqual([
      ['00:01', 'schedule', 'success'],
      ['00:06', 'schedule', 'success'],
    ]);
    await scheduler.stop();
    s.state.close();
  });

  it('keeps a scheduled run still waiting when inlet stops, and the next scheduler runs it', async () => {
    // Times caught up with catchup: all, waiting behind the first, were recorded failed ("inlet
    // stopped while the run was going") at a stop, and abandoned when inlet was killed: never run,
    // though never attempted.
    let hang = true;
    const started: number[] = [];
    const source: Source = {
      name: 'counter',
      type: 'test',
      sync: (context) =>
        new Promise((resolve, reject) => {
          started.push(Date.now());
          if (!hang) resolve({ source: 'counter', rows: 1, tables: [] });
          context.signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    };
    const s = setup({ source });
    let clock = Date.parse('2026-11-20T00:30:00Z');
    const hourly = workflow({ catchup: 'all' });
    const first = s.scheduler({ workflows: [hourly], now: () => clock });
    await first.tick();
    clock += 3 * HOUR;
    const [attempted, stopped, killed] = await first.tick();
    await first.stop();
    expect(started).toHaveLength(1);
    expect(s.history.get(attempted as number)).toMatchObject({
      status: 'stopped',
      error: 'sync counter: inlet stopped while the run was going',
    });
    // The third as a process killed while it waited leaves it: claimed by a process that is gone.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    s.state.db
      .prepare('UPDATE workflow_runs SET owner = ? WHERE id = ?')
      .run(`${hostname()}:${dead.pid}`, killed);
    expect(s.history.abandonStale(STALE_RUN_MS)).toBe(0);
    for (const id of [stopped, killed])
      expect(s.history.get(id as number)).toMatchObject({ status: 'running', started_at: null, steps: [] });
    hang = false;
    const next = s.scheduler({ workflows: [hourly], now: () => clock });
    expect(await next.tick()).toEqual([stopped, killed]);
    await next.idle();
    expect(started).toHaveLength(3);
    for (const id of [stopped, killed])
      expect(s.history.get(id as number)).toMatchObject({
        status: 'success',
        trigger: 'catchup',
        owner: `${hostname()}:${process.pid}`,
      });
    // Taken once: another tick, or another scheduler, finds nothing left to take up.
    expect(await next.tick()).toEqual([]);
    await next.stop();
    s.state.close();
  });

  it('ends a kept run of a workflow since removed as abandoned, naming the configuration read, counted once; a disabled one keeps waiting', async () => {
    // A run kept for the next scheduler stayed running with an empty owner for ever once its
    // workflow was removed from inlet.yaml: no scheduler takes up a workflow it does not have.
    const s = setup({ source: counterSource().source });
    const keep = (name: string) => {
      const id = s.history.claim({
        workflow: name,
        scheduledFor: `2026-11-20T0${n++ % 10}:00:00.000Z`,
        trigger: 'catchup',
        owner: 'gone-host:1',
      }) as number;
      s.history.release(id);
      return id;
    };
    const removed = keep('nightly');
    const paused = keep('hourly');
    const metrics = createMetrics();
    const abandoned = () =>
      metrics
        .render()
        .split('\n')
        .filter((line) => line.startsWith('inlet_workflow_runs_total{') && line.includes('abandoned'));
    // The error named inlet.yaml and project/workflows/ whatever file was read and project_dir was.
    const dir = join(temp.dir, `conf${n++}`);
    mkdirSync(join(dir, 'shop'), { recursive: true });
    const config = loadConfig({ path: configIn(dir, 'project_dir: ./shop\n', 'prod.yaml'), env: {} });
    const scheduler = s.scheduler({ workflows: [workflow({ enabled: false })], metrics, config });
    await scheduler.tick();
    await scheduler.tick();
    expect(s.history.get(removed)).toMatchObject({
      status: 'abandoned',
      started_at: null,
      duration_ms: null,
      error: `workflow "nightly" is no longer in prod.yaml or ${join(dir, 'shop', 'workflows')}/; the run never started (it waited its turn when inlet stopped)`,
      steps: [],
    });
    expect(s.history.get(paused)).toMatchObject({ status: 'running', started_at: null, owner: '' });
    expect(abandoned()).toEqual(['inlet_workflow_runs_total{workflow="nightly",status="abandoned"} 1']);
    await scheduler.stop();
    // A scheduler left with no workflows at all, which never ticks, ends them when it starts.
    const last = keep('hourly');
    const none = s.scheduler({ workflows: [] });
    none.start();
    await none.stop();
    expect(s.history.get(paused)?.status).toBe('abandoned');
    // With no configuration file read (testConfig's), there is only the project's folder to name.
    expect(s.history.get(last)?.error).toBe(
      `workflow "hourly" is no longer in ${join(s.config.project_dir, 'workflows')}/ (no configuration file was read); the run never started (it waited its turn when inlet stopped)`,
    );
    s.state.close();
  });

  it('stops the runs going when told to, after a tick that failed (a state store that refused a write)', async () => {
    // A tick that failed (a full disk) left its error for stop(), which threw it before it stopped
    // the runs: inlet start's shutdown ended there, with the run going and the loader and state
    // store left open.
    const { source } = counterSource({ hang: true });
    const s = setup({ source });
    const scheduler = s.scheduler({ workflows: [workflow({})] });
    const id = scheduler.trigger('hourly');
    await vi.waitFor(() => expect(s.history.get(id)?.steps[0]?.status).toBe('running'), STEADY);
    s.state.db.exec('PRAGMA query_only = ON');
    await expect(scheduler.tick()).rejects.toThrow(/readonly/);
    s.state.db.exec('PRAGMA query_only = OFF');
    await scheduler.stop();
    expect(s.history.get(id)).toMatchObject({
      status: 'stopped',
      error: 'sync counter: inlet stopped while the run was going',
    });
    s.state.close();
  });

  it('a run waiting behind a long run of its workflow stays alive, and is not abandoned', async () => {
    const { source } = counterSource({ hang: true });
    const s = setup({ source });
    const heartbeatMs = 50;
    const scheduler = s.scheduler({
      workflows: [workflow({ steps: ['sync counter'] })],
      heartbeatMs,
    });
    const first = scheduler.trigger('hourly');
    const waiting = scheduler.trigger('hourly');
    // Long past the silence after which a run counts as abandoned (eight heartbeats).
    await new Promise((resolve) => setTimeout(resolve, heartbeatMs * 20));
    await scheduler.tick();
    expect(s.history.get(first)?.status).toBe('running');
    expect(s.history.get(waiting)).toMatchObject({ status: 'running', started_at: null });
    await scheduler.stop();
    expect(s.history.get(waiting)?.status).toBe('stopped');
    s.state.close();
  });

  it('a heartbeat the state store refuses (a full disk) is logged, not thrown from a timer that would stop inlet', async () => {
    const { source } = counterSource({ hang: true });
    const s = setup({ source });
    const warnings: string[] = [];
    const heartbeatMs = 20;
    s.history.heartbeat = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    const scheduler = createScheduler({
      state: s.state,
      history: s.history,
      handlers: s.handlers,
      stateDir: s.stateDir,
      config: s.config,
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) }),
      workflows: [workflow({ steps: ['sync counter'] })],
      heartbeatMs,
    });
    const id = scheduler.trigger('hourly');
    const told = () => warnings.includes('a workflow run could not record its heartbeat');
    for (let i = 0; i < 500 && !told(); i++) await new Promise((resolve) => setTimeout(resolve, heartbeatMs));
    // A heartbeat refused (more than one, by now) stops neither inlet nor the run.
    expect(told()).toBe(true);
    expect(s.history.get(id)?.status).toBe('running');
    await scheduler.stop();
    s.state.close();
  });

  it('logs a run that failed to run with an expected error as its code and message, without a stack', async () => {
    const { s, lines, scheduler } = withWarnings(undefined, {});
    s.history.start = () => {
      throw new InletError('DATA_DIR_UNUSABLE', 'The state store cannot be written; free some disk space.');
    };
    scheduler.trigger('hourly');
    await scheduler.idle();
    await scheduler.stop();
    const failed = lines.find((line) => line.msg === 'a workflow run failed to run');
    expect(failed).toMatchObject({
      code: 'DATA_DIR_UNUSABLE',
      error: expect.stringContaining('free some disk space'),
    });
    expect(failed?.err).toBeUndefined();
    expect(JSON.stringify(failed)).not.toContain('    at ');
    s.state.close();
  });

  it('logs a step stopped by inlet stopping as its message, without a stack', async () => {
    // The Error that stops it was logged whole: 'err' with its stack (at EventTarget.onShutdown …).
    const source: Source = {
      name: 'counter',
      type: 'test',
      sync: (context) =>
        new Promise((_resolve, reject) => {
          context.signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    };
    const { s, lines, scheduler } = withWarnings(source);
    const id = scheduler.trigger('hourly');
    while (s.history.get(id)?.steps[0]?.attempts !== 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await scheduler.stop();
    expect(s.history.get(id)).toMatchObject({
      status: 'stopped',
      error: 'sync counter: inlet stopped while the run was going',
    });
    const failed = lines.find((line) => line.msg === 'workflow step stopped');
    expect(failed).toMatchObject({ error: 'inlet stopped while the run was going' });
    expect(failed?.err).toBeUndefined();
    expect(JSON.stringify(failed)).not.toContain('    at ');
    s.state.close();
  });

  it('records a run stopped by inlet stopping as stopped, not failed, and does not retry or count it as failed', async () => {
    // Ctrl-C or a SIGTERM (a deploy, docker stop) recorded the run as failed, its step as failed and
    // /metrics counted it failed: an alert on failed runs fired for every restart.
    const { source } = counterSource({ hang: true });
    const s = setup({ source });
    const metrics = createMetrics();
    const scheduler = s.scheduler({
      workflows: [workflow({ steps: ['sync counter', 'run'], retries: 2 })],
      metrics,
    });
    const id = scheduler.trigger('hourly');
    await vi.waitFor(() => expect(s.history.get(id)?.steps[0]?.status).toBe('running'), STEADY);
    await scheduler.stop();
    const run = s.history.get(id);
    expect(run).toMatchObject({
      status: 'stopped',
      error: 'sync counter: inlet stopped while the run was going',
    });
    expect(run?.steps[0]).toMatchObject({ status: 'stopped', attempts: 1 });
    expect(run?.steps[1]).toMatchObject({
      status: 'skipped',
      log: expect.stringContaining('skipped because "sync counter" was stopped'),
    });
    expect(metrics.render()).toContain('inlet_workflow_runs_total{workflow="hourly",status="stopped"} 1');
    expect(metrics.render()).not.toContain('status="failed"');
    expect(s.history.list({ status: 'stopped' }).map((r) => r.id)).toEqual([id]);
    s.state.close();
  });

  it('fails a run whose workflow lock is a folder, naming it, where the run waited for ever', async () => {
    // The folder was taken for another process's run to wait for: inlet runs start hung, saying nothing.
    const s = setup({ source: counterSource().source });
    mkdirSync(join(s.stateDir, 'locks', 'workflow-hourly.lock'), { recursive: true });
    const scheduler = s.scheduler({ workflows: [workflow({})] });
    const id = scheduler.trigger('hourly');
    await scheduler.idle();
    expect(s.history.get(id)).toMatchObject({
      status: 'failed',
      error: expect.stringContaining(
        `${join(s.stateDir, 'locks', 'workflow-hourly.lock')} is a folder where inlet keeps a file`,
      ),
    });
    await scheduler.stop();
    s.state.close();
  });

  it('logs a step that failed with an expected error as its code and message, without a stack', async () => {
    const source: Source = {
      name: 'counter',
      type: 'test',
      async sync() {
        throw new InletError(
          'SOURCE_CONNECTION_FAILED',
          'Source "counter" refused the connection; check its url.',
        );
      },
    };
    const { s, lines, scheduler } = withWarnings(source);
    const id = scheduler.trigger('hourly');
    await scheduler.idle();
    await scheduler.stop();
    expect(s.history.get(id)?.status).toBe('failed');
    const failed = lines.find((line) => line.msg === 'workflow step failed');
    expect(failed).toMatchObject({
      code: 'SOURCE_CONNECTION_FAILED',
      error: expect.stringContaining('check its url'),
    });
    expect(failed?.err).toBeUndefined();
    s.state.close();
  });

  it('marks the run of a process of this host that is gone abandoned at once, without waiting out its heartbeats', async () => {
    // inlet start killed (OOM, kill -9) and started again: its run showed as running beside the new
    // process's runs for two more minutes, as if both were going.
    const s = setup();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const claim = (owner: string) =>
      s.history.claim({ workflow: 'hourly', scheduledFor: null, trigger: 'manual', owner }) as number;
    const killed = claim(`${hostname()}:${dead.pid}`);
    // A container's process has the same pid at each start: a run of this owner from before this
    // process started is an earlier process's.
    const earlier = claim(`${hostname()}:${process.pid}`);
    s.history.start(earlier);
    s.state.db
      .prepare("UPDATE workflow_runs SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = ?")
      .run(earlier);
    const ours = claim(`${hostname()}:${process.pid}`);
    const elsewhere = claim(`another-host:${dead.pid}`);
    s.history.abandonStale(STALE_RUN_MS);
    expect([killed, earlier, ours, elsewhere].map((id) => s.history.get(id)?.status)).toEqual([
      'abandoned',
      'abandoned',
      'running',
      'running',
    ]);
    s.state.close();
  });

  it("gives an abandoned run's step the time it was known to run, not the hours until it was noticed", async () => {
    // The process died at night and the scheduler came back in the morning: its step showed as
    // having taken all night.
    const s = setup();
    const id = claimDead(s.history);
    s.history.start(id);
    s.history.startStep(id, 0, 'sync counter');
    const night = Date.now() - 10 * HOUR;
    const at = (ms: number) => new Date(night + ms).toISOString();
    s.state.db
      .prepare('UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ?')
      .run(at(0), at(30_000), id);
    s.state.db.prepare('UPDATE workflow_run_steps SET started_at = ? WHERE run_id = ?').run(at(5_000), id);
    s.history.abandonStale(STALE_RUN_MS);
    expect(s.history.get(id)).toMatchObject({
      status: 'abandoned',
      duration_ms: 30_000,
      steps: [{ status: 'failed', duration_ms: 25_000 }],
    });
    s.state.close();
  });

  it('gives an abandoned run the time until it was last heard from, and none when it never was after its start', async () => {
    // inlet start killed (OOM) a few seconds into a run, before its first heartbeat: the run showed
    // as "abandoned in 0 s", as if it had done nothing, and its step the same.
    const s = setup();
    const night = Date.now() - 10 * HOUR;
    const at = (ms: number) => new Date(night + ms).toISOString();
    const set = (id: number, sql: string, ...values: unknown[]) => s.state.db.prepare(sql).run(...values, id);
    // Killed in its first step, heard from at its start alone: the step's start, 2 ms after, tells
    // nothing of how long it went on.
    const silent = claimDead(s.history);
    s.history.start(silent);
    s.history.startStep(silent, 0, 'sync counter');
    set(silent, 'UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ?', at(0), at(0));
    set(silent, 'UPDATE workflow_run_steps SET started_at = ? WHERE run_id = ?', at(2));
    // Killed in its second step: the first one ended 8 s in, its last sign of life.
    const twoSteps = claimDead(s.history);
    s.history.start(twoSteps);
    s.history.startStep(twoSteps, 0, 'sync counter');
    s.history.updateStep(twoSteps, 0, { status: 'success', attempts: 1 });
    s.history.startStep(twoSteps, 1, 'sync counter');
    set(twoSteps, 'UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ?', at(0), at(0));
    s.state.db
      .prepare(
        'UPDATE workflow_run_steps SET started_at = ?, finished_at = ? WHERE run_id = ? AND position = 0',
      )
      .run(at(1_000), at(8_000), twoSteps);
    s.state.db
      .prepare('UPDATE workflow_run_steps SET started_at = ? WHERE run_id = ? AND position = 1')
      .run(at(8_000), twoSteps);
    // Killed while it waited for the run before it: it never started.
    const waiting = claimDead(s.history);
    set(waiting, 'UPDATE workflow_runs SET created_at = ?, heartbeat_at = ? WHERE id = ?', at(0), at(0));
    expect(s.history.abandonStale(STALE_RUN_MS)).toBe(3);
    const notKnown = 'so how long the run went on is not known';
    expect(s.history.get(silent)).toMatchObject({
      status: 'abandoned',
      duration_ms: null,
      error: expect.stringContaining(notKnown),
      steps: [
        {
          status: 'failed',
          duration_ms: null,
          error: expect.stringContaining('how long the step went on is not known'),
        },
      ],
    });
    expect(s.history.get(twoSteps)).toMatchObject({
      status: 'abandoned',
      duration_ms: 8_000,
      error: 'the process running it stopped before it finished',
      steps: [{ status: 'success' }, { status: 'failed', duration_ms: null }],
    });
    expect(s.history.get(waiting)).toMatchObject({
      status: 'abandoned',
      started_at: null,
      duration_ms: null,
      error: 'the process running it stopped before it finished, while the run waited its turn to start',
    });
    s.state.close();
  });

  it('marks the run of a process that died abandoned, and the step it was in failed', async () => {
    const s = setup();
    // What a scheduler killed with SIGKILL in the middle of a step leaves in the store.
    const id = s.history.claim({
      workflow: 'hourly',
      scheduledFor: '2026-11-20T01:00:00.000Z',
      trigger: 'schedule',
      owner: 'dead-host:1',
    }) as number;
    s.history.start(id);
    s.history.startStep(id, 0, 'sync counter');
    s.history.updateStep(id, 0, { attempts: 1, log: 'started' });
    const heartbeatMs = 20;
    const scheduler = s.scheduler({
      workflows: [workflow({})],
      heartbeatMs,
      now: () => Date.parse('2026-11-20T01:00:30Z'),
    });
    await new Promise((resolve) => setTimeout(resolve, heartbeatMs * 20));
    expect(await scheduler.tick()).toEqual([]);
    const run = s.history.get(id);
    // Killed before its first heartbeat: its step's start, a millisecond or so after its own, made
    // its duration 0 s, as if known.
    expect(run).toMatchObject({
      status: 'abandoned',
      duration_ms: null,
      error: expect.stringContaining('so how long the run went on is not known'),
    });
    expect(run?.steps).toMatchObject([
      {
        step: 'sync counter',
        status: 'failed',
        error: expect.stringContaining('so how long the step went on is not known'),
        finished_at: run?.finished_at,
      },
    ]);
    await scheduler.stop();
    s.state.close();
  });

  it('runs a workflow one run at a time across processes: a manual start is refused naming the run going', async () => {
    // inlet runs start beside inlet start ran the workflow twice at once. Two schedulers over one
    // store and data directory stand for the two processes.
    const { source } = counterSource({ hang: true });
    const s = setup({ source });
    let clock = Date.parse('2026-11-20T00:30:00Z');
    const running = s.scheduler({ workflows: [workflow({})] });
    const other = s.scheduler({ workflows: [workflow({})], now: () => clock });
    await other.tick(); // first sight of the workflow: nothing owed yet
    const id = running.trigger('hourly');
    await vi.waitFor(() => expect(s.history.get(id)?.started_at).not.toBeNull(), STEADY);
    expect(() => other.trigger('hourly')).toThrow(
      expect.objectContaining({ code: 'WORKFLOW_BUSY', message: expect.stringContaining(`run ${id}`) }),
    );
    // A time that comes due meanwhile waits, as behind a run of the same process.
    clock += HOUR;
    expect(await other.tick()).toEqual([]);
    await running.stop();
    expect(await other.tick()).toHaveLength(1);
    await other.stop();
    expect(s.history.list({ workflow: 'hourly' })).toHaveLength(2);
    s.state.close();
  });

  it('counts each abandoned run once in inlet_workflow_runs_total, whoever marked it abandoned', async () => {
    // A workflow OOM-killed each night was never counted, so an alert on status!="success" missed it.
    const s = setup();
    const first = claimDead(s.history);
    s.history.start(first);
    const metrics = createMetrics();
    const scheduler = s.scheduler({ workflows: [workflow({})], metrics, now: () => Date.now() });
    const abandoned = () =>
      Number(
        /^inlet_workflow_runs_total\{workflow="hourly",status="abandoned"\} (\d+)$/m.exec(
          metrics.render(),
        )?.[1] ?? 0,
      );
    // Long silent: the scheduler's own tick marks it and counts it.
    s.state.db.prepare("UPDATE workflow_runs SET heartbeat_at = '2020-01-01T00:00:00.000Z'").run();
    await scheduler.tick();
    expect(abandoned()).toBe(1);
    // Marked by another process (inlet runs, the API), which serves no /metrics: counted at the next tick.
    const second = claimDead(s.history);
    s.state.db
      .prepare("UPDATE workflow_runs SET heartbeat_at = '2020-01-01T00:00:00.000Z' WHERE id = ?")
      .run(second);
    createRunHistory(s.state).abandonStale(STALE_RUN_MS);
    await scheduler.tick();
    await scheduler.tick();
    expect(abandoned()).toBe(2);
    await scheduler.stop();
    s.state.close();
  });

  it('keeps the status of a run marked abandoned that finishes after all, and counts it once', async () => {
    // A process silent for two minutes (paused, its heartbeats refused) whose run was marked
    // abandoned and then finished: its status became success, and /metrics counted it twice, as
    // abandoned and as success.
    const { source, release } = gatedSource();
    const s = setup({ source });
    const metrics = createMetrics();
    const scheduler = s.scheduler({ workflows: [workflow({})], metrics });
    const id = scheduler.trigger('hourly');
    await vi.waitFor(() => expect(s.history.get(id)?.steps[0]?.status).toBe('running'), STEADY);
    s.state.db.prepare("UPDATE workflow_runs SET heartbeat_at = '2020-01-01T00:00:00.000Z'").run();
    expect(createRunHistory(s.state).abandonStale(STALE_RUN_MS)).toBe(1);
    await scheduler.tick();
    release();
    await scheduler.idle();
    expect(s.history.get(id)).toMatchObject({
      status: 'abandoned',
      error: expect.stringContaining('the process running it stopped before it finished'),
      steps: [{ status: 'failed' }],
    });
    expect(metrics.render()).toMatch(
      /^inlet_workflow_runs_total\{workflow="hourly",status="abandoned"\} 1$/m,
    );
    expect(metrics.render()).not.toMatch(/status="success"/);
    await scheduler.stop();
    s.state.close();
  });

  it("says a symbolic link among a synced table's files once, not at every scheduled sync", async () => {
    // A link in lake/sources/crm/orders was named again at every sync step, each hour of each day.
    const dataDir = join(temp.dir, `d${n++}`);
    const exportsDir = join(dataDir, 'exports');
    mkdirSync(exportsDir, { recursive: true });
    writeFileSync(join(exportsDir, 'orders_1.csv'), 'id,status\n1,new\n');
    const config = testConfig(dataDir, {
      models: { builtin: false },
      sources: [
        {
          name: 'crm',
          type: 'csv',
          tables: [{ path: join(exportsDir, 'orders_*.csv'), name: 'orders', mode: 'incremental' }],
        },
      ],
    });
    const state = openStateStore(join(dataDir, 'state.sqlite'));
    const { logger: captured, lines } = capturingLogger<{ path?: string }>('warn');
    const handlers = createStepHandlers({ config, state, logger: captured });
    const sync = () => handlers.sync('crm', { signal: new AbortController().signal, log: () => {} });
    await sync();
    const link = join(dataDir, 'lake', 'sources', 'crm', 'orders', 'part-00000001-00009.parquet');
    symlinkSync(join(exportsDir, 'orders_1.csv'), link);
    for (let i = 2; i <= 4; i++) {
      writeFileSync(join(exportsDir, `orders_${i}.csv`), `id,status\n${i},new\n`);
      await sync();
    }
    expect(lines.map((line) => [line.path, line.msg])).toEqual([
      [link, expect.stringContaining(`${link} is a symbolic link, which inlet does not read`)],
    ]);
    state.close();
  });

  it("keeps what a sync says of a table beside its rows in the run's log: lines of a file that wait for a quote", async () => {
    // The run's log said "ticks: 0 rows" of a table whose new lines waited for a quote, with no word why.
    const note = 'counter.ticks: line 4 of ticks.csv opens a quoted field (") that no quote closes yet, …';
    const source: Source = {
      name: 'counter',
      type: 'test',
      sync: async () => ({
        source: 'counter',
        rows: 0,
        tables: [{ table: 'ticks', rows: 0, notes: [note] }],
      }),
    };
    const s = setup({ source });
    const scheduler = s.scheduler({ workflows: [workflow({ steps: ['sync counter'] })] });
    const id = scheduler.trigger('hourly');
    await scheduler.idle();
    expect(
      s.history
        .get(id)
        ?.steps[0]?.log.split('\n')
        .map((line) => line.replace(/^\S+ /, '')),
    ).toEqual(['ticks: 0 rows', note, 'synced 0 rows from counter']);
    await scheduler.stop();
    s.state.close();
  });

  it('retries a failing step with doubling waits, and logs each attempt', async () => {
    const { source, syncs } = counterSource({ failFirst: 2 });
    const s = setup({ source });
    const scheduler = s.scheduler({
      workflows: [workflow({ retries: 2, retry_backoff: '20ms', steps: ['sync counter'] })],
    });
    const started = Date.now();
    const id = scheduler.trigger('hourly');
    await scheduler.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    const run = s.history.get(id);
    expect(run).toMatchObject({ status: 'success', trigger: 'manual', scheduled_for: null });
    expect(run?.steps[0]).toMatchObject({ step: 'sync counter', status: 'success', attempts: 3 });
    expect(run?.steps[0]?.log).toMatch(
      /attempt 1 failed: the database is not reachable \(attempt 1\)\n.*retrying in 0.02 s\n.*attempt 2 failed.*\n.*retrying in 0.04 s\n.*counter.ticks: 1 row\n.*synced 1 row from counter/,
    );
    expect(syncs).toHaveLength(1);
    await scheduler.stop();
    s.state.close();
  });

  it('does not retry a step failed by an error in the project (a ref to no model, a cycle), and says why', async () => {
    const s = setup();
    const model = (name: string, sql: string) =>
      writeProjectFile(s.config.project_dir, `models/${name}.sql`, sql);
    model('ok', 'SELECT 1 AS n');
    const scheduler = s.scheduler({
      workflows: [workflow({ retries: 2, retry_backoff: '10ms', steps: ['run', 'test'] })],
    });
    const cases: Array<[code: string, write: () => void]> = [
      ['MODEL_REF_MISSING', () => model('broken', "SELECT * FROM {{ ref('nowhere') }}")],
      [
        'MODEL_CYCLE',
        () => {
          model('broken', "SELECT * FROM {{ ref('other') }}");
          model('other', "SELECT * FROM {{ ref('broken') }}");
        },
      ],
    ];
    for (const [code, write] of cases) {
      write();
      const id = scheduler.trigger('hourly');
      await scheduler.idle();
      const run = s.history.get(id);
      const note = `not retried: ${code} is an error in the project, which every attempt would meet again; fix it, then run inlet runs start hourly`;
      expect(run?.status).toBe('failed');
      expect(run?.error).toMatch(new RegExp(`^run: .*\\(${note.replace(/[()]/g, '\\$&')}\\)$`, 's'));
      expect(run?.steps.map((step) => [step.step, step.status, step.attempts])).toEqual([
        ['run', 'failed', 1],
        ['test', 'skipped', 0],
      ]);
      const log = run?.steps[0]?.log.split('\n').map((line) => line.replace(/^\S+ /, ''));
      expect(log?.at(-1)).toBe(note);
      expect(log?.join('\n')).not.toContain('retrying in');
    }
    await scheduler.stop();
    s.state.close();
  });

  it('fails the run when retries run out, skipping the steps after it; a timeout stops a hung step', async () => {
    const failing = counterSource({ failFirst: 5 });
    const s = setup({ source: failing.source });
    const metrics = createMetrics();
    const scheduler = s.scheduler({
      workflows: [workflow({ retries: 1, retry_backoff: '10ms', steps: ['sync counter', 'test'] })],
      metrics,
    });
    const id = scheduler.trigger('hourly');
    await scheduler.idle();
    const run = s.history.get(id);
    expect(run).toMatchObject({
      status: 'failed',
      error: 'sync counter: the database is not reachable (attempt 2)',
    });
    expect(run?.steps.map((step) => [step.step, step.status, step.attempts])).toEqual([
      ['sync counter', 'failed', 2],
      ['test', 'skipped', 0],
    ]);
    // Said under the step itself, as dbt says why it skipped a model, rather than left blank.
    expect(run?.steps[1]?.log).toMatch(/^\S+ skipped because "sync counter" failed$/);
    // It never started, so it has no start, end or duration (inlet runs <id> showed "0 s").
    expect(run?.steps[1]).toMatchObject({ started_at: null, finished_at: null, duration_ms: null });
    await scheduler.stop();

    const hung = counterSource({ hang: true });
    const t = setup({ source: hung.source });
    const slow = t.scheduler({
      workflows: [workflow({ timeout: '150ms', steps: ['sync counter', 'test'] })],
      metrics,
    });
    const timedOut = slow.trigger('hourly');
    await slow.idle();
    const runs = metrics.counter('inlet_workflow_runs_total', '');
    expect(runs.get({ workflow: 'hourly', status: 'failed' })).toBe(1);
    expect(runs.get({ workflow: 'hourly', status: 'timed_out' })).toBe(1);
    expect(runs.get({ workflow: 'hourly', status: 'success' })).toBe(0);
    expect(t.history.get(timedOut)).toMatchObject({
      status: 'timed_out',
      error: 'sync counter: the run took longer than its timeout of 150 ms and was stopped',
    });
    expect(t.history.get(timedOut)?.steps[1]?.log).toMatch(/skipped because "sync counter" timed out$/);
    await slow.stop();
    s.state.close();
    t.state.close();
  });

  it('ends a run that timed out, and lets the next one start, only once its step has stopped', async () => {
    // The run ended at its timeout and released the workflow's lock while the model's query was
    // still being stopped: the next run could begin beside it, and failed on the model's lock.
    const s = setup();
    writeProjectFile(
      s.config.project_dir,
      'models/slow.sql',
      'SELECT count(*) AS n FROM range(100000) a, range(100000) b WHERE (a.range * b.range) % 7 = 3',
    );
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\ntimeout: 1s\nsteps:\n  - run slow\n',
    );
    const scheduler = s.scheduler({ workflows: loadWorkflows(s.config) });
    const id = scheduler.trigger('nightly');
    await scheduler.idle();
    expect(existsSync(join(s.stateDir, 'locks', 'model-slow.lock'))).toBe(false);
    const run = s.history.get(id);
    expect(run).toMatchObject({ status: 'timed_out' });
    // The model's own line, written once its build stopped, comes before the run's end.
    expect(run?.steps[0]?.log).toMatch(/FAILED +slow .*attempt 1 failed: the run took longer/s);
    await scheduler.stop();
    s.state.close();
  });

  it('runs models and their tests as steps, with each model in the step log', async () => {
    const s = setup();
    writeProjectFile(
      s.config.project_dir,
      'models/daily.sql',
      'SELECT dt, count(*)::INT AS events FROM events GROUP BY ALL',
    );
    writeProjectFile(
      s.config.project_dir,
      'models/daily.yaml',
      'columns:\n  dt:\n    tests: [unique, not_null]\n',
    );
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\nsteps:\n  - run +daily\n  - test daily\n',
    );
    await writeEvents(dataLayout(s.config.data_dir), [
      { ts: '2026-11-20T10:00:00Z' },
      { ts: '2026-11-21T10:00:00Z' },
    ]);
    const workflows = loadWorkflows(s.config);
    expect(workflows.map((w) => [w.name, w.timezone, w.steps.map((step) => step.kind)])).toEqual([
      ['nightly', 'UTC', ['run', 'test']],
    ]);
    const run = await s.runNightly(workflows);
    expect(run?.steps[0]?.log).toMatch(/ok {10}daily \(full\) 2 rows 2 tests passed/);
    expect(run?.steps[1]?.log).toMatch(/pass {2}daily: unique\(dt\)/);
    expect(await rowsOf(s.config, 'SELECT sum(events)::INT FROM daily')).toEqual([[2]]);
    s.state.close();
  });

  it("logs a run step's models with the workflow, run and step they belong to", async () => {
    // "model failed model=boom" came with no workflow or run: with two workflows running, or the
    // same model in two of them, nothing told which run's model had failed.
    const s = setup();
    writeProjectFile(s.config.project_dir, 'models/boom.sql', "SELECT error('boom') AS x");
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\nsteps: [run boom]\n',
    );
    const { logger: captured, lines } = capturingLogger<{
      model?: string;
      workflow?: string;
      run?: number;
      step?: string;
    }>();
    const scheduler = createScheduler({
      state: s.state,
      history: s.history,
      handlers: createStepHandlers({ config: s.config, state: s.state, logger: captured }),
      logger: captured,
      stateDir: s.stateDir,
      config: s.config,
      workflows: loadWorkflows(s.config),
    });
    try {
      const id = scheduler.trigger('nightly');
      await scheduler.idle();
      expect(
        lines.filter((line) => line.msg === 'model failed').map((l) => [l.model, l.workflow, l.run, l.step]),
      ).toEqual([['boom', 'nightly', id, 'run boom']]);
    } finally {
      await scheduler.stop();
      s.state.close();
    }
  });

  it("takes dbt's --select / -s and --exclude in run and test steps, as inlet run and inlet test do", async () => {
    const s = setup();
    writeProjectFile(s.config.project_dir, 'models/kept.sql', 'SELECT 1 AS n');
    writeProjectFile(s.config.project_dir, 'models/kept.yaml', 'columns:\n  n:\n    tests: [not_null]\n');
    writeProjectFile(s.config.project_dir, 'models/slow.sql', 'SELECT 2 AS n');
    writeProjectFile(s.config.project_dir, 'models/slow.yaml', 'columns:\n  n:\n    tests: [not_null]\n');
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\nsteps:\n  - run --select kept slow --exclude slow --full-refresh\n  - test -s kept\n',
    );
    const workflows = loadWorkflows(s.config);
    expect(workflows[0]?.steps).toMatchObject([
      { kind: 'run', selectors: ['kept', 'slow'], exclude: ['slow'], fullRefresh: true },
      { kind: 'test', selectors: ['kept'], exclude: [] },
    ]);
    const run = await s.runNightly(workflows);
    expect(run?.steps[0]?.log).toMatch(/kept/);
    expect(run?.steps[0]?.log).not.toMatch(/slow/);
    expect(run?.steps[1]?.log).toMatch(/pass {2}kept: not_null\(n\)/);
    expect(run?.steps[1]?.log).not.toMatch(/slow/);

    const parse = (step: string) => () =>
      parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: [step] }] });
    expect(parse('run --exclude')).toThrow(/"run --exclude" --exclude needs a selector after it/);
    // With =, as inlet run takes them: each was refused as an option a step does not take.
    for (const [step, picked] of [
      ['run --select=kept --exclude=slow', { selectors: ['kept'], exclude: ['slow'] }],
      ['test -s=kept', { selectors: ['kept'], exclude: [] }],
    ] as const)
      expect(parse(step)().workflows[0]?.steps, step).toMatchObject([picked]);
    expect(parse('run --select=')).toThrow(/"run --select=" --select needs a selector after it/);
    expect(parse('test --full-refresh')).toThrow(
      /"test --full-refresh" takes selectors, --select \/ -s and --exclude only/,
    );
    expect(parse('run --threads 4')).toThrow(
      /takes selectors, --select \/ -s, --exclude and --full-refresh only/,
    );
    const withSteps = (...steps: string[]) => ({
      ...s.config,
      workflows: [workflowSchema.parse({ name: 'nightly', cron: '0 5 * * *', steps })],
    });
    expect(() => loadWorkflows(withSteps('run --exclude slw'))).toThrow(
      /names no model or seed: No model or seed matches "slw"/,
    );
    // A name close to none: the project's few names, where the step's error named none.
    expect(() => loadWorkflows(withSteps('run nightly_marts'))).toThrow(
      /"run nightly_marts" names no model or seed: No model or seed matches "nightly_marts"; the project's models and seeds are kept, slow\./,
    );
    s.state.close();
  });

  it("gives a run or test step vars when written as a map, as inlet run --vars does, over dbt_project.yml's", async () => {
    const s = setup();
    writeProjectFile(s.config.project_dir, 'dbt_project.yml', 'name: shop\nvars:\n  region: us\n');
    writeProjectFile(s.config.project_dir, 'models/sales.sql', "SELECT '{{ var('region') }}' AS region");
    writeProjectFile(
      s.config.project_dir,
      'models/sales.yaml',
      "tests:\n  - sql: SELECT * FROM {{ this }} WHERE region <> '{{ var('region') }}'\n",
    );
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\nsteps:\n  - run: sales --full-refresh\n    vars: { region: eu }\n  - test: sales\n    vars:\n      region: eu\n',
    );
    const workflows = loadWorkflows(s.config);
    expect(workflows[0]?.steps).toMatchObject([
      { kind: 'run', selectors: ['sales'], fullRefresh: true, vars: { region: 'eu' } },
      { kind: 'test', selectors: ['sales'], vars: { region: 'eu' } },
    ]);
    const run = await s.runNightly(workflows);
    expect(run?.steps.map((step) => step.step)).toEqual([
      `run sales --full-refresh --vars '{"region":"eu"}'`,
      `test sales --vars '{"region":"eu"}'`,
    ]);
    expect(await rowsOf(s.config, 'SELECT region FROM sales')).toEqual([['eu']]);
    s.state.close();

    // The step's vars are what lets the project be read, so its selectors are checked with them.
    writeProjectFile(s.config.project_dir, 'dbt_project.yml', 'name: shop\n');
    const withStep = (step: unknown) => ({
      ...s.config,
      workflows: [workflowSchema.parse({ name: 'other', cron: '0 5 * * *', steps: [step] })],
    });
    expect(() => loadWorkflows(withStep({ run: 'salse', vars: { region: 'eu' } }))).toThrow(
      /"run salse --vars '\{"region":"eu"\}'" names no model or seed: No model or seed matches "salse"/,
    );
    expect(loadWorkflows(withStep({ run: 'sales', vars: { region: 'eu' } }))).toHaveLength(2);

    const parse = (step: unknown) => () =>
      parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: [step] }] });
    expect(parse("run sales --vars '{region: eu}'")).toThrow(
      `"run sales --vars '{region: eu}'" gives --vars in the step's text; write the step as a map with vars:, e.g. { run: "+daily_active_users", vars: { start_date: "2026-01-01" } }`,
    );
    // What YAML makes of the step above unquoted: a map whose key is most of the step.
    expect(parse({ "run sales --vars '{region": "eu}'" })).toThrow(
      /is not a step: a step written as a map is a run or a test with vars, .*; YAML reads a step written as text that holds ": " as a map: quote it, or give its vars as above\./,
    );
    expect(parse({ sync: 'crm', vars: { a: 1 } })).toThrow(
      /is not a step: a step written as a map is a run or a test with vars/,
    );
    // A key misspelt beside run: was not named: "is not a step", as if the step were no run at all.
    expect(parse({ run: 'sales', var: { region: 'eu' } })).toThrow(
      `{"run":"sales","var":{"region":"eu"}}: a step written as a map takes run: or test:, and vars:, not "var"; e.g. { run: "+daily_active_users", vars: { start_date: "2026-01-01" } }.`,
    );
    expect(parse({ run: 'sales', vars: ['region=eu'] })).toThrow(
      /"vars":\["region=eu"\]}: vars: must be a map of names to values/,
    );
    // A date or a float, as a step's vars: reads them, is a value, not a map of its fields.
    for (const value of ['2026-01-01', '1.0'])
      expect(parse({ run: 'sales', vars: parseVarsYaml(value) })).toThrow(
        new RegExp(`"vars":${value}}: vars: must be a map of names to values`),
      );
    expect(parse({ run: '--exclude', vars: {} })).toThrow(
      /"run --exclude" --exclude needs a selector after it/,
    );
    // A map step with no vars (vars: left empty, or run: with no selectors) is the text step.
    expect(parse({ run: null, vars: null })().workflows[0]?.steps).toEqual([
      { kind: 'run', selectors: [], exclude: [], fullRefresh: false, text: 'run' },
    ]);
  });

  it("keeps a float written with a point in a step's vars, as dbt_project.yml and --vars do: 1.0 renders as 1.0", async () => {
    const s = setup();
    writeProjectFile(s.config.project_dir, 'dbt_project.yml', 'name: shop\n');
    writeProjectFile(s.config.project_dir, 'models/rates.sql', "SELECT '{{ var('rate') }}' AS rate");
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\nsteps:\n  - { run: rates, vars: { rate: 1.0 } }\n',
    );
    const workflows = loadWorkflows(s.config);
    const run = await s.runNightly(workflows);
    expect(run?.steps[0]?.step).toBe(`run rates --vars '{"rate":1.0}'`);
    expect(await rowsOf(s.config, 'SELECT rate FROM rates')).toEqual([['1.0']]);
    s.state.close();

    // The same step under workflows: in inlet.yaml; the workflow's own numbers stay numbers.
    const path = configIn(
      join(temp.dir, `yaml${n++}`),
      'workflows:\n  - name: w\n    cron: "0 5 * * *"\n    retries: 2.0\n    steps:\n      - run: rates\n        vars: { rate: 1.0, days: 2, ratio: 0.25, full: yes, code: "yes", since: 2026-01-01T10:00:00Z, id: 9007199254740993, dates: [2026-01-01] }\n',
    );
    const config = loadConfig({ path, env: {} });
    expect(config.workflows[0]?.retries).toBe(2);
    const step = config.workflows[0]?.steps[0];
    // Its values read as --vars reads them, as dbt does (yes is true); a quoted "yes" stays text, and
    // a date or an int past 2^53 is shown bare, as --vars would read it back.
    expect(step?.text).toBe(
      `run rates --vars '{"rate":1.0,"days":2,"ratio":0.25,"full":true,"code":"yes","since":2026-01-01 10:00:00+00:00,"id":9007199254740993,"dates":[2026-01-01]}'`,
    );
    expect(step?.kind === 'run' && String(step.vars?.rate)).toBe('1.0');
  });

  it('defaults to a timeout of an hour and a first retry after 30 s, as written', () => {
    const parsed = parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: ['test'] }] })
      .workflows[0];
    expect(parsed).toMatchObject({ timeout: 3_600_000, retry_backoff: 30_000 });
    const written = parseConfig({
      workflows: [{ name: 'w', cron: '0 5 * * *', steps: ['test'], timeout: '1h', retry_backoff: 30 }],
    }).workflows[0];
    expect(written).toMatchObject({ timeout: 3_600_000, retry_backoff: 30_000 });
  });

  it('refuses retries whose last wait is longer than a timer can hold, which Node fired at once', () => {
    const parse = (w: Record<string, unknown>) => () =>
      parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: ['test'], ...w }] });
    // 300h, then 600h: past 2^31 ms, so the second retry came at once instead of after 600h.
    expect(parse({ retries: 2, retry_backoff: '300h' })).toThrow(
      /workflows\[0\]\.retry_backoff: with retries: 2 the last wait is 600h, past the 596h a wait can last; lower retry_backoff or retries/,
    );
    expect(parse({ retries: 10, retry_backoff: '2h' })).toThrow(/the last wait is 1024h/);
    expect(parse({ retries: 1, retry_backoff: '596h' })).not.toThrow();
    expect(parse({ retries: 10, retry_backoff: '1h' })).not.toThrow();
    // retries past its bound is said once: its wait was "Infinityh" on a second line.
    expect(parse({ retries: 1e9 })).toThrow(
      /^inlet\.yaml is not valid:\n {2}workflows\[0\]\.retries: must be at most 10, not 1000000000$/,
    );
  });

  it("fails a report step that got past the scheduler's check with the scheduler's message", async () => {
    // The run said only "report steps need the reports module, which this inlet does not have
    // yet.", naming neither the workflow nor what to do.
    const s = setup();
    const nightly = workflow({ name: 'nightly', steps: ['report daily_kpis'] });
    const id = s.history.claim({ workflow: 'nightly', scheduledFor: null, trigger: 'manual', owner: 'test' });
    if (id === undefined) throw new Error('the run was not claimed');
    const shutdown = new AbortController().signal;
    const status = await executeRun({
      id,
      workflow: nightly,
      history: s.history,
      handlers: s.handlers,
      logger,
      shutdown,
    });
    expect([status, s.history.get(id)?.steps[0]?.error]).toEqual([
      'failed',
      'report daily_kpis: Workflow "nightly" (test): "report daily_kpis" needs the reports module, which this inlet does not have yet; remove the step (the steps that run are "sync <source>", "run …" and "test …") for the workflow to start.',
    ]);
  });

  it('refuses workflows that name unknown sources, report steps, or clash', async () => {
    const s = setup();
    // Read from prod.yaml, the advice was to add the source under sources: in inlet.yaml.
    const config = {
      ...s.config,
      configPath: join(s.config.project_dir, 'prod.yaml'),
      workflows: [workflowSchema.parse({ name: 'w', cron: '* * * * *', steps: ['sync crm'] })],
    };
    expect(() => loadWorkflows(config)).toThrow(
      /"sync crm" names no configured source; configured: \(none\)\. Add the source under sources: in prod\.yaml/,
    );
    const withCrm = {
      ...s.config,
      sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'accounts.csv' }] }],
      workflows: [workflowSchema.parse({ name: 'w', cron: '* * * * *', steps: ['sync crm.accounts'] })],
    } as typeof config;
    expect(() => loadWorkflows(withCrm)).toThrow(
      '"sync crm.accounts" names no configured source; configured: crm. "crm.accounts" names a table of source "crm": a sync step copies every table of a source, so write sync crm.',
    );
    const parse = (w: Record<string, unknown>) => () =>
      parseConfig({ workflows: [{ name: 'w', cron: '* * * * *', steps: ['test'], ...w }] });
    // "is not a cron expression" named neither the field nor what it takes.
    for (const [cron, said] of [
      ['61 * * * *', 'the minute field is 61; it takes 0-59'],
      ['0 25 * * *', 'the hour field is 25; it takes 0-23'],
      ['0 1-30 * * *', 'the hour field is 1-30; it takes 0-23'],
      ['0 5,25 * * *', 'the hour field is 5,25; it takes 0-23'],
      ['0 1 32 * *', 'the day-of-month field is 32; it takes 1-31'],
      ['0 1 0 * *', 'the day-of-month field is 0; it takes 1-31'],
      ['0 1 * 13 *', 'the month field is 13; it takes 1-12 or JAN-DEC'],
      ['0 1 * JANX *', 'the month field is JANX; it takes 1-12 or JAN-DEC'],
      ['0 1 * * 8', 'the day-of-week field is 8; it takes 0-7 (0 and 7 are Sunday) or SUN-SAT'],
      ['61 0 1 * * *', 'the seconds field is 61; it takes 0-59'],
      ['0 61 1 * * *', 'the minute field is 61; it takes 0-59'],
    ] as const)
      expect(parse({ cron })).toThrow(
        `workflows[0].cron: "${cron}" is not a cron expression: ${said}, as a value, a list (1,5), a range (1-5) or a step (*/2)`,
      );
    // A day no month it names has is cron, but never fires: it was "not a cron expression".
    expect(parse({ cron: '0 0 31 2 *' })).toThrow(
      'workflows[0].cron: never matches a day: no month it names (2) has day 31; name a day those months have, such as 28',
    );
    expect(parse({ cron: '0 0 0 30 2 *' })).toThrow(
      /cron: never matches a day: no month it names \(2\) has day 30;/,
    );
    // cron-parser fills in missing fields: "0 5 * *" would run every minute past midnight on the 5th.
    for (const [cron, fields] of [
      ['0 5 * *', 4],
      ['5 * * *', 4],
    ] as const)
      expect(parse({ cron })).toThrow(
        `workflows[0].cron: has ${fields} fields; a cron expression has five (minute hour day month weekday), or six with seconds first`,
      );
    for (const cron of ['0 5 * * *', '0 0 5 * * *', '@daily'])
      expect(parse({ cron })().workflows[0]?.cron).toBe(cron);
    expect(parse({ steps: ['deploy'] })).toThrow(
      /workflows\[0\]\.steps\[0\]: "deploy" is not a step; use "sync <source>"/,
    );
    expect(parse({ timezone: 'Mars/Olympus' })).toThrow(
      'workflows[0].timezone: "Mars/Olympus" is not an IANA time zone such as UTC, Europe/Berlin or Asia/Tokyo',
    );
    writeProjectFile(s.config.project_dir, 'workflows/w.yaml', 'cron: "0 5 * * *"\nsteps: [test]\n');
    const clash = {
      ...s.config,
      workflows: [workflowSchema.parse({ name: 'w', cron: '* * * * *', steps: ['test'] })],
    };
    expect(() => loadWorkflows(clash)).toThrow(
      /Workflow "w" is defined twice: in .* and in .*workflows\/w\.yaml\. Rename one of them \(name:, or the file\) or remove it\.$/,
    );
    // Both in inlet.yaml: the file is named once, with the two entries of its workflows: list.
    const twice = {
      ...s.config,
      configPath: join(s.config.data_dir, 'inlet.yaml'),
      project_dir: join(s.config.data_dir, 'none'),
      workflows: ['a', 'w', 'w'].map((name) =>
        workflowSchema.parse({ name, cron: '* * * * *', steps: ['test'] }),
      ),
    };
    expect(() => loadWorkflows(twice)).toThrow(
      `Workflow "w" is defined twice in ${twice.configPath}: as workflows[1] and workflows[2]. Rename one of them (name:) or remove it.`,
    );
    // Read one by one (inlet runs start), neither copy of w loads, and a stays to be run.
    const each = loadEachWorkflow(twice);
    expect([each.workflows.map((w) => w.name), each.problems.map((p) => [p.name, p.error.code])]).toEqual([
      ['a'],
      [['w', 'WORKFLOW_INVALID']],
    ]);
    // A key left out or of the wrong type in a workflow file is said in words, as in inlet.yaml.
    writeProjectFile(join(s.config.data_dir, 'worded'), 'workflows/w.yaml', 'steps: sync crm\n');
    expect(() => loadWorkflows({ ...s.config, project_dir: join(s.config.data_dir, 'worded') })).toThrow(
      /w\.yaml is not a valid workflow:\n {2}cron: is required; give the times it runs as a cron expression, such as cron: "0 5 \* \* \*" \(minute[^\n]*\n {2}steps: must be a list, not the text "sync crm"$/,
    );
    // A tag YAML does not know is refused by name, not read as text.
    writeProjectFile(
      join(s.config.data_dir, 'tagged'),
      'workflows/w.yaml',
      'cron: !!js/function x\nsteps: [test]\n',
    );
    expect(() => loadWorkflows({ ...s.config, project_dir: join(s.config.data_dir, 'tagged') })).toThrow(
      expect.objectContaining({
        code: 'WORKFLOW_INVALID',
        message: expect.stringMatching(
          /w\.yaml is not valid YAML: the tag !!js\/function \(line 1, column 7\) is not one YAML knows; quote the value to pass it as text\.$/,
        ),
      }),
    );
    // A key written as a list or a map is an unknown key, with no Node warning of the yaml library's.
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    writeProjectFile(
      join(s.config.data_dir, 'listkey'),
      'workflows/w.yaml',
      'cron: "0 5 * * *"\nsteps: [test]\n[a, b]: 1\n',
    );
    expect(() => loadWorkflows({ ...s.config, project_dir: join(s.config.data_dir, 'listkey') })).toThrow(
      /w\.yaml is not a valid workflow:\n {2}\(top level\): unknown key "\[ a, b \]"/,
    );
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.map((w) => w.message)).toEqual([]);
    // The name comes from the file name unless the file says name:; the error says so.
    writeProjectFile(
      join(s.config.data_dir, 'named'),
      'workflows/Nightly Sync.yaml',
      'cron: "0 5 * * *"\nsteps: [test]\n',
    );
    expect(() => loadWorkflows({ ...s.config, project_dir: join(s.config.data_dir, 'named') })).toThrow(
      /Nightly Sync\.yaml is not a valid workflow:\n {2}name: "Nightly Sync", the file's name, must start with a lower-case letter and hold only lower-case letters, digits, - and _ \(at most 63\); rename the file or give the workflow a name:/,
    );
    // Nightly was told it "must start with a letter", which it does.
    expect(() =>
      parseConfig({ workflows: [{ name: 'Nightly', cron: '0 5 * * *', steps: ['test'] }] }),
    ).toThrow(
      /name: must start with a lower-case letter and hold only lower-case letters, digits, - and _ \(at most 63\)/,
    );
    expect(() =>
      s.scheduler({
        workflows: [workflow({ steps: ['report daily_kpis'] })],
      }),
    ).toThrow(
      /"report daily_kpis" needs the reports module, which this inlet does not have yet; remove the step \(the steps that run are "sync <source>", "run …" and "test …"\) for the workflow to start\.$/,
    );
    // A step that is none, such as deploy, was told to use "report <name>" among the steps, which the
    // line above refuses in every inlet there is.
    expect(() => parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: ['deploy'] }] })).toThrow(
      /"deploy" is not a step; use "sync <source>", "run \[selector…\] \[--full-refresh\]" or "test \[selector…\]"$/,
    );
    s.state.close();
  });

  it("refuses a step's vars with a key written as a list or a map, naming the file, workflow and step", () => {
    // It became a var named "[ a ]", which no var() can name; --vars and dbt_project.yml refuse it.
    const s = setup();
    writeProjectFile(
      s.config.project_dir,
      'workflows/nightly.yaml',
      'cron: "0 5 * * *"\nsteps:\n  - test\n  - run: sales\n    vars:\n      ? [a]\n      : 1\n',
    );
    expect(() => loadWorkflows(s.config)).toThrow(
      expect.objectContaining({
        code: 'WORKFLOW_INVALID',
        message: `${join(s.config.project_dir, 'workflows', 'nightly.yaml')} is not a valid workflow:\n  workflow "nightly", steps[1].vars: the key [a] (line 6, column 9) is a list or a map; a key must be a name, such as a: 1.`,
      }),
    );
    s.state.close();
  });

  it('names a folder or a file not in UTF-8 among the workflow files, where it said EISDIR or showed garbled text', () => {
    const s = setup();
    const file = join(s.config.project_dir, 'workflows', 'w.yaml');
    mkdirSync(file, { recursive: true });
    expect(() => loadWorkflows(s.config)).toThrow(
      `${file} is a folder, and each file of workflows/ is one workflow; move the folder out of workflows/, or rename it so that its name does not end in .yaml or .yml.`,
    );
    rmSync(file, { recursive: true });
    // UTF-16 was "(top level): must be a mapping (indented key: value lines), not text".
    writeFileSync(file, Buffer.from('\uFEFFcron: "0 5 * * *"\nsteps: [test]\n', 'utf16le'));
    expect(() => loadWorkflows(s.config)).toThrow(
      `${file} is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8.`,
    );
    s.state.close();
  });

  /** `${…}` written as %{…}, so that the texts below need no escapes. */
  const env = (text: string) => text.replaceAll('%{', '${');

  /** Expects w.yaml holding text (%{…} for references) to be refused for reference at line. */
  const expectReferenceRefused = (text: string, line: number, reference: string) => {
    const s = setup();
    const file = join(s.config.project_dir, 'workflows', 'w.yaml');
    writeProjectFile(s.config.project_dir, 'workflows/w.yaml', env(text));
    // Read from prod.yaml, the message said inlet.yaml expands references.
    expect(() => loadWorkflows({ ...s.config, configPath: join(s.config.project_dir, 'prod.yaml') })).toThrow(
      env(
        `${file} at line ${line}: "${reference}" holds a %{NAME} reference, which a workflow file does not expand (prod.yaml does); write the value, or move the workflow under workflows: in prod.yaml.`,
      ),
    );
    return { s, file };
  };

  it('refuses a reference in a workflow file, which it took as text, naming the file and line', () => {
    // Only inlet.yaml expands them: region: %{REGION} became the var "%{REGION}".
    const { s } = expectReferenceRefused(
      'cron: "0 5 * * *"  # %{NOT_READ}\nsteps:\n  - run: daily\n    vars:\n      region: %{REGION}\n',
      5,
      '%{REGION}',
    );
    s.state.close();
  });

  it('refuses a file where the folder of workflows is, naming it, not as an error inlet did not foresee', () => {
    const s = setup();
    const file = join(s.config.project_dir, 'workflows');
    writeProjectFile(s.config.project_dir, 'workflows', 'cron: "0 5 * * *"\nsteps: [run]\n');
    // It was "ENOTDIR: not a directory, scandir '…/workflows'", which stopped inlet start (exit 5).
    expect(() => loadWorkflows(s.config)).toThrow(
      `${file} is a file, where inlet looks for the project's folder of workflows (a .yaml file each); move the file out of the way and make workflows a folder (or leave it out).`,
    );
    s.state.close();
  });

  it('refuses a reference in a flow map of a workflow file as it does one in a block, not with a parser error', () => {
    // It was "… is not valid YAML: Unexpected flow-map-start at node end at line 2, column …".
    const { s, file } = expectReferenceRefused(
      'cron: "0 5 * * *"  # %{NOT_READ}\nsteps: [{run: daily, vars: {region: %{REGION:-eu}}}]\n',
      2,
      '%{REGION:-eu}',
    );
    // A file that a reference is not all that is wrong with is told as YAML sees it.
    writeProjectFile(s.config.project_dir, 'workflows/w.yaml', env('steps: [{run: %{X}}\n'));
    expect(() => loadWorkflows(s.config)).toThrow(`${file} is not valid YAML:`);
    s.state.close();
  });

  it('refuses a workflow whose run or test step names a model the project does not have', () => {
    const s = setup();
    writeProjectFile(s.config.project_dir, 'models/daily.sql', 'SELECT 1 AS n');
    const withSteps = (...steps: string[]) => ({
      ...s.config,
      workflows: [workflowSchema.parse({ name: 'nightly', cron: '0 5 * * *', steps })],
    });
    expect(loadWorkflows(withSteps('run +daily+', 'test daily', 'run', 'test'))).toHaveLength(1);
    for (const step of ['run +dailyy', 'test daily dialy', 'run daily+ weekly --full-refresh'])
      expect(() => loadWorkflows(withSteps(step)), step).toThrow(
        expect.objectContaining({
          code: 'WORKFLOW_INVALID',
          message: expect.stringMatching(
            new RegExp(
              `^Workflow "nightly" \\(.*\\): "${step.replace(/[+]/g, '\\+')}" names no model or seed: No model or seed matches "(\\+dailyy|dialy|weekly)"`,
            ),
          ),
        }),
      );
    s.state.close();
  });
});
