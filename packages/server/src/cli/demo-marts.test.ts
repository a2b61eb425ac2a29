import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runChild } from '../../test/child-processes.ts';
import { API_TOKEN, capturedOutput, configIn, tempDir, testConfig } from '../../test/helpers.ts';
import { BIN } from '../../test/inlet-process.ts';
import { loadConfig } from '../config/index.ts';
import { createQueryEngine } from '../engine/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { demoCommand } from './demo.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('inlet demo', () => {
  it('builds the built-in marts right after loading, with the demo features as the features seed', async () => {
    const config = testConfig(join(temp.dir, 'data'), { project_dir: join(temp.dir, 'project') });
    const captured = capturedOutput();
    expect(await demoCommand(['--days', '3', '--exit'], config, createSilentLogger(), captured.output)).toBe(
      0,
    );
    const { err } = captured;
    expect(err).toMatch(/Built 20 marts in [\d.]+ s \(waiting for their input: access_log_traffic_daily\)/);
    expect(existsSync(join(config.project_dir, 'seeds', 'features.csv'))).toBe(true);
    // With --exit nothing keeps serving, so nothing says it is running or offers a curl to it.
    expect(err).not.toContain('inlet is running');
    expect(err).not.toContain('curl');
    expect(err).toContain(`The demo data is in ${config.data_dir}; inlet stopped, as --exit asks.`);
    expect(err).toContain('npx inlet query "SELECT * FROM daily_active_users ORDER BY dt DESC LIMIT 7"');
    const engine = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    try {
      const [[days, users]] = (
        await engine.query(
          "SELECT count(*)::INT, sum(users)::INT FROM daily_active_users WHERE site = 'demo'",
        )
      ).rows as [[number, number]];
      expect(days).toBeGreaterThanOrEqual(2);
      expect(users).toBeGreaterThan(0);
      // Never sent by the demo, so unused whatever day of the week the test runs on.
      const unused = (
        await engine.query("SELECT feature FROM features_unused WHERE site = 'demo'")
      ).rows.flat();
      expect(unused).toEqual(expect.arrayContaining(['gantt_view', 'slack_alert_created']));
      // The seed has the columns the built-in features.yaml documents, so `inlet docs check` is clean.
      const [[features, undescribed]] = (
        await engine.query(
          "SELECT count(*)::INT, count(*) FILTER (WHERE coalesce(description, '') = '')::INT FROM features",
        )
      ).rows as [[number, number]];
      expect(features).toBe(9);
      expect(undescribed).toBe(0);
    } finally {
      engine.close();
    }
  });

  it('prints commands to try that read the demo --config file, so that pasted elsewhere they query its data', async () => {
    const path = configIn(join(temp.dir, 'my conf'), 'data_dir: ./data\nserver: { port: 0 }\n');
    const config = loadConfig({ path, env: { INLET_API_TOKEN: API_TOKEN }, projectMayBeMissing: true });
    const captured = capturedOutput();
    expect(await demoCommand(['--days', '1', '--exit'], config, createSilentLogger(), captured.output)).toBe(
      0,
    );
    const tries = captured.err.split('\n').filter((line) => line.startsWith('    npx inlet '));
    expect(tries).toHaveLength(4);
    const dau = tries.find((line) => line.includes('daily_active_users'));
    expect(dau).toBe(
      `    npx inlet query --config '${path}' "SELECT * FROM daily_active_users ORDER BY dt DESC LIMIT 7"`,
    );
    // Run by a shell in another folder, as a user pastes it: it said "Table with name daily_active_users does not exist".
    const pasted = await runChild(
      'sh',
      ['-c', `${dau?.trim().replace('npx inlet', `node '${BIN}'`)} --format csv`],
      {
        cwd: temp.dir,
      },
    );
    const [header, first] = pasted.stdout.split('\r\n');
    expect([pasted.status, pasted.stderr, header, first?.split(',')[0]]).toEqual([
      0,
      '',
      'site,dt,users,visitors,events',
      'demo',
    ]);
  }, 120_000);
});
