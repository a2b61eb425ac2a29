import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runChild } from '../../test/child-processes.ts';
import { AS_NOBODY, configIn, jsonLines, nobodyCanRun, runCli, tempDir } from '../../test/helpers.ts';
import { BIN } from '../../test/inlet-process.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { ExitCode } from './exit-codes.ts';

/**
 * A project of one workflow in a folder of its own, whose run history its tests record as root and
 * read as nobody once its data_dir is made read-only.
 */
function ownedProject() {
  const owned = tempDir();
  const data = join(owned.dir, 'data');
  const config = configIn(
    owned.dir,
    'data_dir: ./data\nmodels: { builtin: false }\nworkflows:\n  - { name: nightly, cron: "0 5 * * *", steps: [run one] }\n',
  );
  chmodSync(owned.dir, 0o755);
  writeProjectFile(join(owned.dir, 'project'), 'models/one.sql', 'SELECT 1 AS n');
  /** inlet as nobody, --format json unless argv says another. */
  const asNobody = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const format = argv.includes('--format') ? [] : ['--format', 'json'];
    const run = await runChild(process.execPath, [BIN, ...argv, ...format, '--config', config], {
      ...AS_NOBODY,
      env: { ...process.env, INLET_LOG_LEVEL: 'silent', ...env },
      timeout: 30_000,
    });
    if (run.signal !== null)
      throw new Error(
        `inlet ${argv.join(' ')}, run as nobody, did not finish: ended by ${run.signal} (after 30 s?)`,
      );
    return run;
  };
  const cleanup = () => {
    execFileSync('chmod', ['-R', 'u+w', owned.dir]);
    owned.cleanup();
  };
  return { data, config, asNobody, cleanup };
}

// Root writes anywhere, so the history is read as nobody over a data_dir nobody may only read (and,
// run as another user, one that user made and then took its own write permission from).
describe.skipIf(!nobodyCanRun(BIN))('inlet runs over a data_dir it may not write', () => {
  it('lists and shows the runs of a state.sqlite made before, and says so of one made by an older inlet', async () => {
    // Opening state.sqlite migrated it, and the data_dir was checked for writing first: inlet runs,
    // and inlet runs <id>, were DATA_DIR_UNUSABLE on a read-only mount or another user's files.
    const { data, config, asNobody, cleanup } = ownedProject();
    try {
      expect((await runCli(['runs', 'start', 'nightly', '--config', config])).code).toBe(ExitCode.OK);
      execFileSync('chmod', ['-R', 'a-w', data]);
      const files = readdirSync(data).sort();
      const list = await asNobody(['runs']);
      expect([list.status, list.stderr, jsonLines(list.stdout)]).toEqual([
        ExitCode.OK,
        '',
        [expect.objectContaining({ id: 1, workflow: 'nightly', status: 'success' })],
      ]);
      const one = await asNobody(['runs', '1']);
      expect([one.status, one.stderr, jsonLines(one.stdout)[0]]).toEqual([
        ExitCode.OK,
        '',
        expect.objectContaining({
          id: 1,
          steps: [expect.objectContaining({ step: 'run one', status: 'success' })],
        }),
      ]);
      // Read as it is: no -wal or -shm left beside it.
      expect(readdirSync(data).sort()).toEqual(files);
      // It is read from a copy in TMPDIR: one it may not write there is said as such, not an unforeseen EACCES.
      const noTmp = await asNobody(['runs'], { TMPDIR: data });
      expect([noTmp.status, noTmp.stderr]).toEqual([
        ExitCode.CONFIG,
        `DATA_DIR_UNUSABLE: ${join(data, 'state.sqlite')} can be read only as a copy, as this user may not write beside it (where SQLite keeps its -shm file), and copying it to ${data} failed (EACCES: permission denied, mkdtemp '${join(data, 'inlet-state-XXXXXX')}'); give this user write access to ${data}, or a TMPDIR it may write with room for the copy.\n`,
      ]);
      // One whose schema lacks a migration of this inlet's cannot be migrated by a reader who may not write it.
      execFileSync('chmod', ['-R', 'u+w', data]);
      const db = new Database(join(data, 'state.sqlite'));
      const last = db.prepare('SELECT name FROM _migrations ORDER BY id DESC LIMIT 1').get() as {
        name: string;
      };
      db.prepare('DELETE FROM _migrations WHERE name = ?').run(last.name);
      db.close();
      execFileSync('chmod', ['-R', 'a-w', data]);
      const old = await asNobody(['runs']);
      expect([old.status, old.stderr]).toEqual([
        ExitCode.CONFIG,
        `DATA_DIR_UNUSABLE: ${join(data, 'state.sqlite')} was made by an older inlet (its schema lacks "${last.name}"), and this user may not write it; run inlet start once (with write access) to migrate it, then read it again.\n`,
      ]);
    } finally {
      cleanup();
    }
  }, 120_000);

  it('shows a run whose process died as abandoned, as the next writer records it, without writing the store', async () => {
    // A reader that may not write the store left such a run running for ever: only a writer marks it.
    const { data, config, asNobody, cleanup } = ownedProject();
    try {
      expect((await runCli(['runs', 'start', 'nightly', '--config', config])).code).toBe(ExitCode.OK);
      const now = Date.now();
      const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
      // A process of this host that has exited, whose run's heartbeat is recent.
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      const store = join(data, 'state.sqlite');
      const db = new Database(store);
      const run = db.prepare(
        "INSERT INTO workflow_runs (workflow, scheduled_for, trigger, status, owner, created_at, started_at, heartbeat_at) VALUES ('nightly', ?, 'schedule', 'running', ?, ?, ?, ?)",
      );
      const step = db.prepare(
        "INSERT INTO workflow_run_steps (run_id, position, step, status, attempts, started_at) VALUES (?, 0, 'run one', 'running', 1, ?)",
      );
      // 2: silent for 5 minutes, on another host; 3: heard from now; 4: its process gone
      run.run('2026-01-01T05:00:00.000Z', 'elsewhere:4242', at(10), at(10), at(5));
      step.run(2, at(10));
      // (its heartbeat an hour ahead, so that it stays recent however long this test takes)
      run.run('2026-01-02T05:00:00.000Z', 'elsewhere:4243', at(1), at(1), at(-60));
      run.run('2026-01-03T05:00:00.000Z', `${hostname()}:${gone}`, at(3), at(3), at(1));
      db.close();
      execFileSync('chmod', ['-R', 'a-w', data]);
      const list = await asNobody(['runs']);
      expect([list.status, list.stderr]).toEqual([ExitCode.OK, '']);
      const runs = jsonLines(list.stdout) as Array<Record<string, unknown>>;
      expect(runs.map((r) => [r.id, r.status, r.duration_ms, r.error])).toEqual([
        [4, 'abandoned', 120_000, 'the process running it stopped before it finished'],
        [3, 'running', null, null],
        [2, 'abandoned', 300_000, 'the process running it stopped before it finished'],
        [1, 'success', expect.any(Number), null],
      ]);
      // The table's rows have no note: why runs the store says are running are shown abandoned is
      // said once below it, and only where one listed is.
      const table = async (argv: string[] = []) => {
        const run = await asNobody(['runs', ...argv, '--format', 'table']);
        // The ids of its rows, below its header and rule.
        const ids = run.stdout
          .trim()
          .split('\n')
          .slice(2)
          .map((row) => Number(row.trim().split(' ')[0]));
        return [run.status, ids, run.stderr];
      };
      expect(await table()).toEqual([
        ExitCode.OK,
        [4, 3, 2, 1],
        'Shown as abandoned: run 4, whose process is no longer running, and run 2, whose process sent no heartbeat for 2 minutes. The state store still says they are running, as this user may not write it; the next inlet start, or inlet runs by a user who may write it, records them as abandoned. inlet runs <id> says when each was last heard from.\n',
      ]);
      expect(await table(['--before', '3'])).toEqual([
        ExitCode.OK,
        [2, 1],
        'Shown as abandoned: run 2, whose process sent no heartbeat for 2 minutes. The state store still says it is running, as this user may not write it; the next inlet start, or inlet runs by a user who may write it, records it as abandoned. inlet runs <id> says when it was last heard from.\n',
      ]);
      expect(await table(['--status', 'running'])).toEqual([ExitCode.OK, [3], '']);
      const recorded =
        'shown as abandoned, which the state store (this user may not write it) records at the next inlet start, or inlet runs by a user who may write it';
      // Shown one at a time, each says why, and that the store does not say so yet (no finished_at).
      const shownRun = async (id: number) =>
        jsonLines((await asNobody(['runs', String(id)])).stdout)[0] as {
          note: string;
          finished_at: null;
          steps: unknown[];
        };
      const [two, four] = [await shownRun(2), await shownRun(4)];
      expect([two.note, two.finished_at, four.note, four.finished_at]).toEqual([
        `its process (elsewhere:4242) stopped sending heartbeats at ${at(5)}; ${recorded}`,
        null,
        `its process (${hostname()}:${gone}) is no longer running (last heard from at ${at(1)}); ${recorded}`,
        null,
      ]);
      // The status filter reads the status shown.
      expect(jsonLines((await asNobody(['runs', '--status', 'running'])).stdout)).toEqual([
        expect.objectContaining({ id: 3 }),
      ]);
      expect(
        (jsonLines((await asNobody(['runs', '--status', 'abandoned'])).stdout) as Array<{ id: number }>).map(
          (r) => r.id,
        ),
      ).toEqual([4, 2]);
      // Its step as the writer marks it: failed, running to the last heartbeat.
      expect(two.steps).toEqual([
        expect.objectContaining({
          status: 'failed',
          duration_ms: 300_000,
          error: 'the process running it stopped before it finished',
        }),
      ]);
      const shown = await asNobody(['runs', '2', '--format', 'table']);
      expect(shown.stdout.split('\n').slice(0, 3)).toEqual([
        'Run 2 of nightly: abandoned, last heard from 300 s after it started',
        `  schedule for 2026-01-01T05:00:00.000Z, by elsewhere:4242, started ${at(10)}`,
        `  note: its process (elsewhere:4242) stopped sending heartbeats at ${at(5)}; ${recorded}`,
      ]);
      // Nothing was written: the store still says running.
      const after = new Database(store, { readonly: true });
      expect(
        after.prepare("SELECT id FROM workflow_runs WHERE status = 'running' ORDER BY id").all(),
      ).toEqual([{ id: 2 }, { id: 3 }, { id: 4 }]);
      after.close();
    } finally {
      cleanup();
    }
  }, 180_000);
});
