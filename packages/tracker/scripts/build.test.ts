import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuildCurrent } from './build-stamp.ts';

// The build run for real, on a copy of the package, so that its sources can be edited: `--if-changed`
// (what the browser tests run) builds only when dist/ is missing, incomplete or made from other sources.

const root = fileURLToPath(new URL('../../..', import.meta.url));
const BUILD = { timeout: 120_000 };
let work: string;
let tracker: string;

async function build(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/build.ts', ...args],
    { cwd: tracker },
  );
  return stdout;
}
const built = /^dist\/inlet\.js: \d+ bytes minified/m;
const skipped = 'dist/ is already built from the current sources';
const modified = (file: string): number => statSync(join(tracker, 'dist', file)).mtimeMs;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'inlet-tracker-build-'));
  tracker = join(work, 'packages', 'tracker');
  mkdirSync(tracker, { recursive: true });
  for (const entry of ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.types.json'])
    cpSync(join(root, 'packages/tracker', entry), join(tracker, entry), { recursive: true });
  cpSync(join(root, 'tsconfig.base.json'), join(work, 'tsconfig.base.json'));
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('building the tracker with --if-changed', () => {
  it('builds a checkout that has no dist/', BUILD, async () => {
    expect(isBuildCurrent(tracker)).toBe(false);
    expect(await build('--if-changed')).toMatch(built);
    expect(isBuildCurrent(tracker)).toBe(true);
  });

  it('leaves alone a dist/ built from the current sources', BUILD, async () => {
    const before = modified('inlet.js');
    expect(await build('--if-changed')).toContain(skipped);
    expect(modified('inlet.js')).toBe(before);
  });

  it('builds again after a source is edited', BUILD, async () => {
    appendFileSync(join(tracker, 'src/snippet.ts'), '\n// edited\n');
    expect(await build('--if-changed')).toMatch(built);
    expect(await build('--if-changed')).toContain(skipped);
  });

  it('takes an edited test file for no change, and an edited config or a missing file for one', () => {
    appendFileSync(join(tracker, 'src/uuid.test.ts'), '\n// edited\n');
    expect(isBuildCurrent(tracker)).toBe(true);
    const config = join(work, 'tsconfig.base.json');
    const text = readFileSync(config, 'utf8');
    writeFileSync(config, `${text}\n`);
    expect(isBuildCurrent(tracker)).toBe(false);
    writeFileSync(config, text);
    expect(isBuildCurrent(tracker)).toBe(true);
    rmSync(join(tracker, 'dist/inlet.mjs'));
    expect(isBuildCurrent(tracker)).toBe(false);
  });
});
