import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledFixture } from './bundled-fixture.ts';
import { killedAfterwards, runChild, stdoutOf } from './child-processes.ts';
import { tempDir } from './helpers.ts';

const sleeper = () => killedAfterwards(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)']));
const alive = (child: ChildProcess | undefined) => child?.exitCode === null && child.signalCode === null;

describe('child processes a test left running', () => {
  let ofTheFile: ChildProcess | undefined;
  let ofATest: ChildProcess | undefined;
  beforeAll(() => {
    ofTheFile = sleeper();
  });

  it('a test starts one and ends without stopping it (as one that failed or timed out)', () => {
    ofATest = sleeper();
    expect(alive(ofATest)).toBe(true);
  });

  it('is killed after that test; one started in beforeAll runs on for the tests after it', async () => {
    while (alive(ofATest)) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ofATest?.signalCode).toBe('SIGKILL');
    expect(alive(ofTheFile)).toBe(true);
  });
});

describe('a child run to its end', () => {
  it("keeps this process's event loop turning while the child runs, as vitest's calls need", async () => {
    // The child ends well only once this process has written `ready`, which a held loop never does
    // before the child gives up (execFileSync's way).
    const { dir, cleanup } = tempDir();
    try {
      const ready = join(dir, 'ready');
      const wait = `const t = Date.now(); while (!require('fs').existsSync(${JSON.stringify(ready)})) { if (Date.now() - t > 20_000) process.exit(1); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); }`;
      const run = runChild(process.execPath, ['-e', wait]);
      setImmediate(() => writeFileSync(ready, ''));
      expect(await run).toMatchObject({ status: 0, signal: null });
    } finally {
      cleanup();
    }
  }, 60_000);

  it('gives the status and stderr of a child that failed, and stdoutOf throws with them', async () => {
    const fail = "console.log('out'); console.error('no such table'); process.exit(3)";
    expect(await runChild(process.execPath, ['-e', fail])).toEqual({
      status: 3,
      signal: null,
      stdout: 'out\n',
      stderr: 'no such table\n',
    });
    await expect(stdoutOf(process.execPath, ['-e', fail])).rejects.toThrow(
      /ended with exit 3: no such table/,
    );
    expect(await stdoutOf(process.execPath, ['-e', "console.log('fine')"])).toBe('fine\n');
  }, 60_000);
});

describe('a fixture bundled for a child', () => {
  it('runs under plain node, with the TypeScript it imports and the packages inlet depends on', async () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'value.ts'), 'export const value: number = 41 + 1;\n');
      const fixture = join(dir, 'bundled-check.ts');
      writeFileSync(
        fixture,
        "import { stringify } from 'yaml';\nimport { value } from './value.ts';\nprocess.stdout.write(stringify({ value }));\n",
      );
      const bundled = await bundledFixture(fixture);
      expect(bundled).toBe(join(import.meta.dirname, '..', 'dist', 'fixtures', 'bundled-check.js'));
      expect(await stdoutOf(process.execPath, [bundled])).toBe('value: 42\n');
    } finally {
      cleanup();
    }
  }, 60_000);
});
