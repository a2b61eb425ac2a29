import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { capturedOutput, STEADY, tempDir, testConfig } from '../../test/helpers.ts';
import { inletConfigFile, spawnInlet } from '../../test/inlet-process.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { generateDemo } from '../demo/index.ts';
import { createQueryEngine } from '../engine/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { openStateStore } from '../state/index.ts';
import { demoCommand } from './demo.ts';
import { ExitCode } from './exit-codes.ts';
import type { Output } from './output.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

const config = testConfig(join(temp.dir, 'data'), {
  project_dir: join(temp.dir, 'project'),
  models: { builtin: false },
});
const output: Output = { isTty: false, out: () => undefined, err: () => undefined };
const demo = (...args: string[]) => demoCommand([...args, '--exit'], config, createSilentLogger(), output);

async function demoEvents(dataDir = config.data_dir): Promise<number> {
  const engine = await createQueryEngine({ config: testConfig(dataDir), layout: dataLayout(dataDir) });
  try {
    const result = await engine.query("SELECT count(DISTINCT event_id)::INT FROM events WHERE site = 'demo'");
    return Number(result.rows[0]?.[0]);
  } finally {
    engine.close();
  }
}

describe('inlet demo, sent again', () => {
  it('--force adds another month of new events, and a send cut short resumes where it stopped', async () => {
    expect(await demo('--days', '2')).toBe(0);
    const first = await demoEvents();
    expect(first).toBeGreaterThan(0);
    const forced = capturedOutput();
    expect(
      await demoCommand(['--days', '2', '--force', '--exit'], config, createSilentLogger(), forced.output),
    ).toBe(0);
    const second = await demoEvents();
    // Every event it sent is new: the same seed again made the same event ids, which the loader
    // dropped as repeats. (Not a share of the first send's count: another seed's two days, a
    // weekend among them, can hold half as many events.)
    const sent = Number(/^Sent ([\d,]+) events for 2 days/m.exec(forced.err)?.[1]?.replaceAll(',', ''));
    expect(sent).toBeGreaterThan(0);
    expect(second - first).toBe(sent);

    // A run stopped after the first of two days of a month: the next run sends the second day only.
    const send = { seed: 99, now: Date.now(), days: 2, timezone: 'UTC', sentDays: 1 };
    const state = openStateStore(join(config.data_dir, 'state.sqlite'));
    state.setCheckpoint('demo_send', 'demo', send);
    state.close();
    const resumed = capturedOutput();
    expect(await demoCommand(['--days', '2', '--exit'], config, createSilentLogger(), resumed.output)).toBe(
      0,
    );
    // One day is "1 day": the line said "events for 1 days".
    expect(resumed.err).toMatch(
      /^Sent [\d,]+ events for 1 day to site "demo" and loaded them into the lake\.$/m,
    );
    const [, secondDay] = [...generateDemo({ ...send })];
    expect((await demoEvents()) - second).toBe(secondDay?.length);
    const after = openStateStore(join(config.data_dir, 'state.sqlite'));
    expect(after.getCheckpoint('demo_send', 'demo')).toBeUndefined();
    after.close();
    // Sent already: --force is offered for the days asked, not for a month that --days 2 never asks.
    const again = capturedOutput();
    expect(await demoCommand(['--days', '2', '--exit'], config, createSilentLogger(), again.output)).toBe(0);
    expect(again.err).toMatch(/; not sending more \(use --force to add 2 more days\)\.$/m);
    // Its count as the Sent line writes one: it said "already has 10003 events" after "Sent 10,003 events".
    const total = await demoEvents();
    expect(total).toBeGreaterThan(999);
    expect(again.err).toContain(`The demo site already has ${total.toLocaleString('en-US')} events;`);
    const month = capturedOutput();
    expect(await demoCommand(['--exit'], config, createSilentLogger(), month.output)).toBe(0);
    expect(month.err).toMatch(/; not sending more \(use --force to add another month\)\.$/m);
  }, 60_000);
});

describe('inlet demo stopped while it sends', () => {
  it('says how many events were sent and acknowledged, which the data dir keeps, and that the next run resumes', async () => {
    const dir = join(temp.dir, 'stopped');
    const { config: configFile } = await inletConfigFile(dir);
    const demo = spawnInlet(['demo', '--config', configFile], { ...process.env, INLET_LOG_LEVEL: 'warn' });
    // The collector's WAL is NDJSON: a byte in it is an event acknowledged, so the send is under way.
    const wal = join(dir, 'data', 'wal', 'events', '0000000000000001.log');
    await vi.waitFor(() => expect(statSync(wal).size).toBeGreaterThan(0), STEADY);
    demo.child.kill('SIGINT');
    expect(await demo.exit).toBe(ExitCode.INTERRUPTED);
    const line =
      /^inlet demo stopped: Ctrl-C \(SIGINT\) came before it finished\. ([\d,]+) of the ([\d,]+) demo events to send were sent and acknowledged, and are kept in (.+); run inlet demo again to send the rest\.$/m.exec(
        demo.err,
      );
    expect(line, demo.err).not.toBeNull();
    const [, sent = '', total = '', kept] = line ?? [];
    const count = (text: string) => Number(text.replaceAll(',', ''));
    expect(count(sent)).toBeGreaterThan(0);
    expect(count(sent)).toBeLessThan(count(total));
    expect(kept).toBe(join(dir, 'data'));
    expect(await demoEvents(join(dir, 'data'))).toBe(count(sent));
    // What the next run resumes from.
    const state = openStateStore(join(dir, 'data', 'state.sqlite'));
    expect(state.getCheckpoint('demo_send', 'demo')).toMatchObject({ days: 30 });
    state.close();
  }, 60_000);
});

describe('inlet demo stopped while it serves', () => {
  it('says it stopped and where the data is, on SIGTERM as on Ctrl-C, and exits 0 as inlet start does', async () => {
    // SIGTERM (docker stop, timeout(1)) and Ctrl-C both ended it without a word after "Press Ctrl-C to stop."
    const dir = join(temp.dir, 'serving');
    const { config: configFile } = await inletConfigFile(dir, 'models: { builtin: false }\n');
    for (const [signal, said] of [
      ['SIGINT', 'Ctrl-C (SIGINT)'],
      ['SIGTERM', 'SIGTERM'],
    ] as const) {
      const demo = spawnInlet(['demo', '--days', '1', '--config', configFile], {
        ...process.env,
        INLET_LOG_LEVEL: 'warn',
      });
      await vi.waitFor(() => expect(demo.err).toContain('Press Ctrl-C to stop.\n'), {
        ...STEADY,
        timeout: 60_000,
      });
      demo.child.kill(signal);
      expect(await demo.exit, demo.err).toBe(ExitCode.OK);
      expect(demo.err.split('Press Ctrl-C to stop.\n')[1]).toBe(
        `inlet demo stopped on ${said}. The demo data stays in ${join(dir, 'data')}; inlet demo --config ${configFile} serves it again.\n`,
      );
    }
  }, 120_000);
});

describe('inlet demo stopped while it builds the marts', () => {
  it('says it stopped, that the events are kept and how to build the marts, and exits 130 or 143', async () => {
    // Nothing listened for a signal between the send and the serving: the build died without a word.
    const dir = join(temp.dir, 'building');
    const { config: configFile } = await inletConfigFile(dir, 'models: { builtin: false }\n');
    writeProjectFile(
      join(dir, 'project'),
      'models/slow.sql',
      'SELECT count(*) AS n FROM range(100000000000) t(i) WHERE i % 7 = 3',
    );
    for (const [signal, code, said] of [
      ['SIGINT', ExitCode.INTERRUPTED, 'Ctrl-C (SIGINT)'],
      ['SIGTERM', ExitCode.TERMINATED, 'SIGTERM'],
    ] as const) {
      const demo = spawnInlet(['demo', '--days', '1', '--force', '--config', configFile], {
        ...process.env,
        INLET_LOG_LEVEL: 'silent',
      });
      // Its build lock is there while the model builds.
      const lock = join(dir, 'data', 'state', 'locks', 'model-slow.lock');
      await vi.waitFor(() => expect(existsSync(lock)).toBe(true), { ...STEADY, timeout: 60_000 });
      demo.child.kill(signal);
      expect(await demo.exit, demo.err).toBe(code);
      // Stopped as inlet run is, it let go of the model's lock.
      expect(existsSync(lock)).toBe(false);
      expect(demo.err.split('\n').at(-2)).toBe(
        `inlet demo stopped: ${said} came before it finished. The demo events are in ${join(dir, 'data')}; inlet run --config ${configFile} builds the marts.`,
      );
    }
  }, 120_000);
});
