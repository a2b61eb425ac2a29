import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveApiToken, startRoles } from '../src/app.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { tempDir, testConfig } from './helpers.ts';

describe('the generated API token', () => {
  it('is generated once into data/state/api-token, readable by this user only, and kept', () => {
    const temp = tempDir();
    const config = { ...testConfig(temp.dir), apiToken: undefined };
    const first = resolveApiToken(config);
    expect(first).toMatchObject({ generated: true, path: join(temp.dir, 'state', 'api-token') });
    expect(first.token).toMatch(/^inlet_[\w-]{32}$/);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(resolveApiToken(config)).toEqual({ ...first, generated: false });
    expect(readdirSync(join(temp.dir, 'state'))).toEqual(['api-token']); // no draft left behind
    temp.cleanup();
  });

  it('an empty or cut-short token file stops the start, instead of letting requests in without a token', async () => {
    const temp = tempDir();
    const config = { ...testConfig(temp.dir), apiToken: undefined };
    mkdirSync(join(temp.dir, 'state'), { recursive: true });
    for (const text of ['', '\n', 'inlet_abc\n']) {
      writeFileSync(join(temp.dir, 'state', 'api-token'), text);
      // Before: an empty token equalled the empty one of a request without Authorization.
      await expect(
        startRoles({ config, logger: createSilentLogger(), roles: ['web'] }),
      ).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(
          `${join(temp.dir, 'state', 'api-token')} holds ${text.trim() ? 'an API token shorter than 16 characters' : 'no API token'}. Delete the file`,
        ),
      });
    }
    temp.cleanup();
  });

  it('a token file that cannot be read (a folder under its name) stops the start, naming it', async () => {
    const temp = tempDir();
    const config = { ...testConfig(temp.dir), apiToken: undefined };
    mkdirSync(join(temp.dir, 'state', 'api-token'), { recursive: true });
    // It ended as "EISDIR: illegal operation on a directory, read", an error inlet did not foresee.
    await expect(startRoles({ config, logger: createSilentLogger(), roles: ['web'] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(
        `${join(temp.dir, 'state', 'api-token')} cannot be read (EISDIR: illegal operation on a directory, read). Move it out`,
      ),
    });
    temp.cleanup();
  });
});
