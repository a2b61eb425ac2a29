import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli/exit-codes.ts';
import { API_TOKEN, basicAuth, jsonLines, queryApi, segmentMessage, tempDir } from './helpers.ts';
import { exited, inletConfigFile, spawnInlet, startInletProcess } from './inlet-process.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** POSTs a batch over the agent's kept-alive connection; resolves with the status, or undefined if the connection failed. */
function postBatch(agent: Agent, url: string, ids: string[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ batch: ids.map((id) => segmentMessage(id)) });
    const request = httpRequest(
      `${url}/v1/batch`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
        response.on('error', () => resolve(undefined));
      },
    );
    request.on('error', () => resolve(undefined));
    request.end(body);
  });
}

/** `inlet start --config <config>`, logging at info, with test/fixtures/<fixture> preloaded and env added. */
const startWithFixture = (config: string, fixture: string, env: Record<string, string>) =>
  spawnInlet(['start', '--config', config], {
    ...process.env,
    INLET_API_TOKEN: API_TOKEN,
    INLET_LOG_LEVEL: 'info',
    ...env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(import.meta.dirname, 'fixtures', fixture)}`,
  });

describe('shutdown', () => {
  it('stops on SIGTERM while keep-alive clients keep sending, and keeps what it acknowledged', async () => {
    const { config, url } = await inletConfigFile(temp.dir);
    let child = await startInletProcess(config, url, API_TOKEN);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const acknowledged = new Set<string>();
    let stopped = false;
    const exit = exited(child).then(() => {
      stopped = true;
    });
    let batch = 0;
    const client = async (c: number) => {
      while (!stopped) {
        const ids = [`k${c}-${batch++}`];
        if ((await postBatch(agent, url, ids)) === 200) for (const id of ids) acknowledged.add(id);
      }
    };
    const clients = Array.from({ length: 4 }, (_, c) => client(c));
    while (acknowledged.size < 50) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGTERM');
    await exit;
    await Promise.all(clients);
    agent.destroy();
    expect(child.exitCode).toBe(0);

    child = await startInletProcess(config, url, API_TOKEN);
    try {
      const rows = await queryApi(url, "SELECT event_id FROM events WHERE event_id LIKE 'k%'");
      const seen = new Set(rows.map((row) => row.event_id));
      expect([...acknowledged].filter((id) => !seen.has(id))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  }, 30_000);

  it.each(['SIGTERM', 'SIGINT'])(
    'on %s while it starts, closes what had started, says it stopped while starting and exits 0',
    async (signal) => {
      const dir = join(temp.dir, `starting-${signal}`);
      const { config } = await inletConfigFile(dir);
      // The signal comes from a file preloaded for this test (test/fixtures/signal-at-start.cjs) once
      // the collector's lock is taken, before the WAL, the loader's DuckDB or the port: with no
      // listener yet, the process ended by the signal at once, exit null, its lock files left.
      const inlet = startWithFixture(config, 'signal-at-start.cjs', { INLET_TEST_SIGNAL: signal });
      expect(await inlet.exit).toBe(0);
      const records = jsonLines<{ msg: string; signal?: string }>(inlet.out);
      expect(records.filter((record) => record.signal !== undefined)).toEqual([
        expect.objectContaining({
          signal,
          msg: 'stopped while starting: what had started is closed, and acknowledged events are in the WAL and load on the next start',
        }),
      ]);
      expect(records.map((record) => record.msg)).not.toContain('inlet is listening');
      expect(inlet.err).toBe('');
      // Closed: the locks it had taken are released.
      expect(
        ['collector.lock', 'loader.lock'].filter((lock) => existsSync(join(dir, 'data', 'state', lock))),
      ).toEqual([]);
    },
    30_000,
  );

  it.each([
    ['an uncaught exception', 'exception'],
    ['an unhandled rejection', 'rejection'],
  ])(
    'on %s, logs it as one line with its stack, stops as on SIGTERM and exits 5, keeping what it acknowledged',
    async (_, fault) => {
      const { config, url } = await inletConfigFile(
        join(temp.dir, fault),
        'loader: { interval_ms: 3600000 }\n',
      );
      // The fault comes from a file preloaded for this test (test/fixtures/fault-on-signal.cjs), as a
      // bug in any part of inlet would throw it: Node printed its stack and exited 1 at once.
      const inlet = startWithFixture(config, 'fault-on-signal.cjs', { INLET_TEST_FAULT: fault });
      await inlet.waitForOutput('inlet is listening');
      const ids = ['f-1', 'f-2', 'f-3'].map((id) => `${fault}-${id}`);
      const response = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: ids.map((id) => segmentMessage(id)) }),
      });
      expect(response.status).toBe(200);
      inlet.child.kill('SIGUSR2');
      expect(await inlet.exit).toBe(ExitCode.INTERNAL);
      // No raw stack on stderr: the log has it, in one record.
      expect(inlet.err).not.toMatch(/^\s+at /m);
      const records = jsonLines<{ level: number; msg: string; err?: { stack?: string } }>(inlet.out);
      const faults = records.filter((record) => record.err?.stack?.includes('test fault'));
      expect(faults).toHaveLength(1);
      expect(faults[0]?.level).toBeGreaterThanOrEqual(50);
      expect(faults[0]?.err?.stack).toMatch(/\n\s+at /);
      expect(faults[0]?.msg).toContain('did not foresee');

      const again = await startInletProcess(config, url, API_TOKEN);
      try {
        await fetch(`${url}/healthz`);
        const rows = await queryApi(
          url,
          `SELECT event_id FROM events WHERE event_id LIKE '${fault}-%' ORDER BY 1`,
        );
        expect(rows.map((row) => row.event_id)).toEqual(ids);
      } finally {
        again.kill('SIGTERM');
        await exited(again);
      }
    },
    30_000,
  );
});
