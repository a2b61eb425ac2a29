import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { openSpillFolder } from './spill-folder.ts';

const temp = tempDir();
const systemTemp = process.env.TMPDIR;
afterEach(() => {
  if (systemTemp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = systemTemp;
});
afterAll(() => temp.cleanup());

describe("the catalog's spill folders", () => {
  it('removes the one an earlier process of this pid left (a container restarted), and keeps its own', () => {
    // A container's inlet is pid 1 at each start: the folder of one killed while it spilled was
    // taken for the running process's, and kept for good.
    const tmp = join(temp.dir, 'tmp-restarted');
    mkdirSync(tmp);
    process.env.TMPDIR = tmp;
    const started = Math.round(Date.now() - process.uptime() * 1000);
    const earlier = join(tmp, `inlet-spill-${process.pid}-s${started - 60_000}-a1b2c3`);
    mkdirSync(earlier);
    writeFileSync(join(earlier, 'duckdb_temp_storage_DEFAULT-0.tmp'), 'spilled');
    // Of an inlet before the start was in the name: whose it is cannot be told, so it is kept.
    const unknown = `inlet-spill-${process.pid}-d4e5f6`;
    mkdirSync(join(tmp, unknown));
    const first = openSpillFolder();
    const second = openSpillFolder();
    expect(existsSync(earlier)).toBe(false);
    expect(first && existsSync(first.path)).toBe(true);
    expect(readdirSync(tmp).sort()).toEqual(
      [unknown, ...[first?.path, second?.path].map((path) => path?.slice(tmp.length + 1))].sort(),
    );
    first?.remove();
    second?.remove();
  });
});
