import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { dataLayout } from '../lake/index.ts';
import { createLogger } from '../log/index.ts';
import type { ProcessLock } from '../state/index.ts';
import { lockRoles } from './role-locks.ts';

const temp = tempDir();
afterEach(() => temp.cleanup());

describe('lockRoles', () => {
  it('frees the API token claim of a start stopped while it claimed the token', async () => {
    const config = testConfig(temp.dir);
    const layout = dataLayout(config.data_dir);
    mkdirSync(join(layout.state, 'api-servers'), { recursive: true });
    const roleLocks: ProcessLock[] = [];
    const stopped = new Error('stopped');
    await expect(
      lockRoles({
        config,
        logger: createLogger({ level: 'silent' }),
        layout,
        has: (role) => role === 'collector',
        roleLocks,
        stopIfAsked: () => {
          throw stopped;
        },
      }),
    ).rejects.toBe(stopped);
    // What start does when it fails part-way: every lock in roleLocks is released.
    for (const lock of roleLocks) lock.release();
    expect(readdirSync(join(layout.state, 'api-servers')).filter((name) => name.endsWith('.lock'))).toEqual(
      [],
    );
    expect(readdirSync(layout.state).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });
});
