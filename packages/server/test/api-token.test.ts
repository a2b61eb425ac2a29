import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startRoles } from '../src/app/index.ts';
import { claimApiToken, resolveApiToken } from '../src/auth/index.ts';
import type { InletConfig } from '../src/config/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { bundledFixture } from './bundled-fixture.ts';
import { startTogether } from './fixtures/state/start-together.ts';
import { capturingLogger, tempDir, testConfig } from './helpers.ts';
import { exited, inletConfigFile, startInletProcess } from './inlet-process.ts';

const execFileAsync = promisify(execFile);

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

describe('INLET_API_TOKEN on a data directory that processes share', () => {
  it('a web process started without INLET_API_TOKEN, or with another, beside one given it is refused; a restart with a new one changes it', async () => {
    // The web role takes no lock: it generated data/state/api-token beside a collector given
    // INLET_API_TOKEN, and each refused the other's clients.
    const temp = tempDir();
    const { config: file, url } = await inletConfigFile(temp.dir);
    const state = join(temp.dir, 'data', 'state');
    const web = (apiToken: string | undefined) =>
      startRoles({
        config: { ...testConfig(join(temp.dir, 'data')), apiToken },
        logger: createSilentLogger(),
        roles: ['web'],
      });
    const first = 'first-token-0123456789';
    const collector = await startInletProcess(file, url, first);
    const record = join(state, 'api-token.sha256');
    // The token's SHA-256, never the token.
    expect(readFileSync(record, 'utf8')).toBe(`${createHash('sha256').update(first).digest('hex')}\n`);
    await expect(web(undefined)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `INLET_API_TOKEN is not set, but another inlet process (pid ${collector.pid}) serves the API on ${join(temp.dir, 'data')} with the INLET_API_TOKEN it was given (its SHA-256 is in ${record}), and a token of this process's own would refuse its clients. Start this process with the same INLET_API_TOKEN; or, to have inlet use the token it keeps in ${join(state, 'api-token')} (generated when there is none), stop every inlet process serving the API there and delete ${record}.`,
    });
    expect(existsSync(join(state, 'api-token'))).toBe(false);
    await expect(web('second-token-0123456789')).rejects.toMatchObject({
      code: 'DATA_DIR_IN_USE',
      message: expect.stringContaining(
        `another inlet process (pid ${collector.pid}) serves the API on ${join(temp.dir, 'data')} with another INLET_API_TOKEN (its SHA-256 is in ${record}), not the INLET_API_TOKEN given to this process`,
      ),
    });
    const beside = await web(first);
    expect(beside.apiToken).toBe(first);
    await beside.close();
    // Gone without a word (its listing left behind), the collector is no longer in the way of a new token.
    collector.kill('SIGKILL');
    await exited(collector);
    const rotated = await web('second-token-0123456789');
    expect(rotated.apiToken).toBe('second-token-0123456789');
    await rotated.close();
    expect(readFileSync(record, 'utf8')).toBe(
      `${createHash('sha256').update('second-token-0123456789').digest('hex')}\n`,
    );
    // Restarted without the variable, a process does not switch to a generated token.
    await expect(web(undefined)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(readdirSync(join(state, 'api-servers'))).toEqual([]);
    temp.cleanup();
  });

  it('a process given INLET_API_TOKEN beside one serving the generated token is refused, unless it is that token', async () => {
    const temp = tempDir();
    const start = (apiToken: string | undefined, port = 0): ReturnType<typeof startRoles> => {
      const config: InletConfig = { ...testConfig(temp.dir), apiToken };
      return startRoles({
        config: { ...config, server: { ...config.server, port } },
        logger: createSilentLogger(),
        roles: ['web'],
      });
    };
    const generated = await start(undefined);
    await expect(start('other-token-0123456789')).rejects.toMatchObject({
      code: 'DATA_DIR_IN_USE',
      message: expect.stringContaining(
        `with the token in ${join(temp.dir, 'state', 'api-token')}, not the INLET_API_TOKEN`,
      ),
    });
    // The generated token given in INLET_API_TOKEN is the same one: processes without it keep serving it.
    const given = await start(generated.apiToken);
    const again = await start(undefined);
    expect(again.apiToken).toBe(generated.apiToken);
    for (const inlet of [generated, given, again]) await inlet.close();
    // With none serving, the generated token is replaced by a new INLET_API_TOKEN.
    const replaced = await start('other-token-0123456789');
    expect(replaced.apiToken).toBe('other-token-0123456789');
    await replaced.close();
    temp.cleanup();
  });

  it('a restart that replaces the recorded or generated token says so in its log, without the token', async () => {
    // The token was changed without a word: clients sending the old one were refused, and nothing
    // in the log said why.
    const temps = [tempDir(), tempDir()];
    const start = async (dir: string, apiToken: string | undefined) => {
      const { logger, lines } = capturingLogger<{ path?: string }>();
      const inlet = await startRoles({ config: { ...testConfig(dir), apiToken }, logger, roles: ['web'] });
      await inlet.close();
      return lines
        .filter((line) => /API token/.test(line.msg))
        .map(({ level, msg, path }) => ({ level, msg, path }));
    };
    const replaced = (path: string) => ({
      level: 40,
      msg: 'INLET_API_TOKEN is not the API token served on this data directory before, and replaces it: clients sending the old one are refused from now on',
      path,
    });
    const first = 'first-token-0123456789';
    const second = 'second-token-0123456789';
    for (const { dir } of temps)
      expect(await start(dir, undefined)).toEqual([
        {
          level: 30,
          msg: 'generated an API token because INLET_API_TOKEN is not set',
          path: join(dir, 'state', 'api-token'),
        },
      ]);
    // The generated token given in INLET_API_TOKEN is no new token.
    const [generating, given] = temps.map(({ dir }) => dir) as [string, string];
    expect(await start(given, readFileSync(join(given, 'state', 'api-token'), 'utf8').trim())).toEqual([]);
    expect(await start(given, first)).toEqual([replaced(join(given, 'state', 'api-token.sha256'))]);
    expect(await start(generating, first)).toEqual([replaced(join(generating, 'state', 'api-token'))]);
    expect(await start(generating, first)).toEqual([]);
    const lines = await start(generating, second);
    expect(lines).toEqual([replaced(join(generating, 'state', 'api-token.sha256'))]);
    expect(JSON.stringify(lines)).not.toContain(second);
    for (const temp of temps) temp.cleanup();
  });

  it('resolveApiToken alone records INLET_API_TOKEN and refuses to generate a token beside it', () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    expect(resolveApiToken(config)).toMatchObject({ token: config.apiToken, generated: false });
    expect(() => resolveApiToken({ ...config, apiToken: undefined })).toThrow(
      /^INLET_API_TOKEN is not set, but the API on .* was served with an INLET_API_TOKEN \(its SHA-256/,
    );
    expect(readdirSync(join(temp.dir, 'state'))).toEqual(['api-token.sha256']);
    temp.cleanup();
  });
});

describe('INLET_API_TOKEN claimed by two processes starting at one moment', () => {
  it('waits for the claim of another start, says which process is stuck in one, and takes over one left by a process gone', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    const lock = join(temp.dir, 'state', 'api-token.lock');
    mkdirSync(join(temp.dir, 'state'), { recursive: true });
    // A live process holding the lock, as a start stopped (SIGSTOP) in the middle of its claim would.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    writeFileSync(lock, `${holder.pid} ${hostname()}\n`);
    await expect(claimApiToken(config, 50)).rejects.toMatchObject({
      code: 'DATA_DIR_IN_USE',
      message: `another inlet process (pid ${holder.pid}) has been claiming the API token on ${temp.dir} for over 0.05 s (a claim takes milliseconds): it is stuck. Stop it, then start this process again (lock file: ${lock}).`,
    });
    expect(existsSync(join(temp.dir, 'state', 'api-token.sha256'))).toBe(false);
    holder.kill('SIGKILL');
    await exited(holder);
    const claim = await claimApiToken(config, 50);
    expect(claim.token.token).toBe(config.apiToken);
    claim.server.lock.release();
    // The lock is let go once the claim is made.
    expect(existsSync(lock)).toBe(false);
    temp.cleanup();
  });

  const script = join(import.meta.dirname, 'fixtures', 'auth', 'claim-at.ts');
  /** Two processes, given these tokens ('-' for none), claiming the token on each of the data directories at one moment; one line of "ok" or an error code a directory from each. */
  const claimTogether = async (tokens: [string, string], dirs: string[], barrier: string) => {
    mkdirSync(barrier);
    const bundled = await bundledFixture(script);
    const runs = tokens.map((token) =>
      execFileAsync(process.execPath, [bundled, barrier, '30', '2', token, ...dirs], {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
      }),
    );
    // Both loaded first, however long that takes, then started at one moment.
    await startTogether(barrier, runs);
    return (await Promise.all(runs)).map(({ stdout }) => stdout.trim().split('\n'));
  };

  it.each([
    ['one given a token and one without', ['first-token-0123456789', '-']],
    ['two given different tokens', ['first-token-0123456789', 'second-token-0123456789']],
  ] as const)(
    'of %s on a fresh data directory, one is refused, every time',
    async (_, tokens) => {
      // Each read the data directory before the other had listed itself or recorded its token: both
      // started, serving two tokens, and each refused the other's clients.
      const temp = tempDir();
      const dirs = Array.from({ length: 30 }, (_, i) => join(temp.dir, String(i)));
      const [a, b] = await claimTogether([...tokens], dirs, join(temp.dir, 'barrier'));
      const both = dirs.filter((_, i) => a?.[i] === 'ok' && b?.[i] === 'ok');
      expect(both).toEqual([]);
      for (const [i] of dirs.entries()) expect([a?.[i], b?.[i]]).toContain('ok');
      temp.cleanup();
    },
    30_000,
  );
});
