import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedOutput, tempDir, testConfig } from '../../test/helpers.ts';
import { createSilentLogger } from '../log/index.ts';
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
    const captured = capturedOutput();
    expect(await syncCommand(['sales'], config, createSilentLogger(), captured.output)).toBe(0);
    expect(captured.err).toContain('plans: 1 row\n');
    expect(captured.err).toContain('Synced 1 row from sales.');
  });
});
