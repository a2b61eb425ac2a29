import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { createQueryEngine } from '../engine/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { runModels } from './index.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('atomic replacement', () => {
  it('a reader querying in a loop during rebuilds sees the old or the new table, never an error or a mix', async () => {
    const config = testConfig(join(temp.dir, 'data'), {
      project_dir: join(temp.dir, 'project'),
      models: { builtin: false },
    });
    // Every build stamps all its rows with one version, so a mix of two builds would show.
    writeProjectFile(
      config.project_dir,
      'models/big.sql',
      'SELECT i, epoch_ms(now()) AS version, md5(i::VARCHAR) AS payload FROM range(100000) t(i)',
    );
    const build = () =>
      runModels({ config, logger: createSilentLogger(), fullRefresh: true, retainVersionsMs: 300 });
    expect((await build()).ok).toBe(true);
    const engine = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    const seen = new Set<string>();
    const errors: string[] = [];
    let reads = 0;
    let building = true;
    const reader = (async () => {
      while (building) {
        try {
          const [row] = (
            await engine.query(
              'SELECT count(*)::INT, count(DISTINCT version)::INT, min(version)::VARCHAR, count(DISTINCT payload)::INT FROM big',
            )
          ).rows;
          expect([row?.[0], row?.[1]]).toEqual([100000, 1]);
          seen.add(String(row?.[2]));
          reads++;
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
    })();
    try {
      // Rebuilds go on until the reader has read many times across at least three builds, however
      // fast this machine is (a fixed number of builds left a slow run with too few reads).
      for (let i = 0; i < 5 || (i < 60 && (reads <= 20 || seen.size <= 2)); i++) {
        expect((await build()).ok).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
    } finally {
      building = false;
      await reader;
      engine.close();
    }
    expect(errors).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(seen.size).toBeGreaterThan(2);
    // Replaced versions are deleted once retired for longer than the grace period.
    await new Promise((resolve) => setTimeout(resolve, 350));
    await build();
    const versions = readdirSync(join(config.data_dir, 'lake', 'marts', 'big')).filter((name) =>
      name.startsWith('v-'),
    );
    expect(versions.length).toBeLessThanOrEqual(2);
  });

  it('the next build of a model removes what a killed build of it left, at once rather than an hour on', async () => {
    // A build killed (SIGKILL, out of memory) left its staging folder, hundreds of MB for a big
    // mart, until a build an hour or more later; under the model's build lock no other build can
    // be writing one.
    const config = testConfig(join(temp.dir, 'killed'), {
      project_dir: join(temp.dir, 'killed-project'),
      models: { builtin: false },
    });
    writeProjectFile(config.project_dir, 'models/kept.sql', 'SELECT 1 AS x');
    const build = () => runModels({ config, logger: createSilentLogger() });
    expect((await build()).ok).toBe(true);
    const mart = join(config.data_dir, 'lake', 'marts', 'kept');
    const left = join(mart, `.staging-${Date.now()}-0a1b2c`);
    mkdirSync(left);
    writeFileSync(join(left, 'data.parquet'), 'half a file');
    expect((await build()).ok).toBe(true);
    expect(readdirSync(mart).filter((name) => name.startsWith('.staging-'))).toEqual([]);
  });
});
