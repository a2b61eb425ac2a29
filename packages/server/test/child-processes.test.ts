import { type ChildProcess, spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { killedAfterwards } from './child-processes.ts';

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
