import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { createSilentLogger } from '../log/index.ts';
import type { Output } from './output.ts';
import { syncCommand } from './sync.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('inlet sync', () => {
  it('counts one row as "1 row", not "1 rows"', async () => {
    mkdirSync(join(temp.dir, 'exports'), { recursive: true });
    writeFileSync(join(temp.dir, 'exports', 'plans.csv'), 'id,name\n1,pro\n');
    const config = testConfig(join(temp.dir, 'data'), {
      sources: [{ name: 'sales', type: 'csv', tables: [{ path: join(temp.dir, 'exports', 'plans.csv') }] }],
    });
    let err = '';
    const output: Output = {
      isTty: false,
      out: () => undefined,
      err: (text) => {
        err += text;
      },
    };
    expect(await syncCommand(['sales'], config, createSilentLogger(), output)).toBe(0);
    expect(err).toContain('plans: 1 row\n');
    expect(err).toContain('Synced 1 row from sales.');
  });
});
