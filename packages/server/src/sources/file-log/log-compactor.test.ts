import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { recoverLogCompaction } from './log-compactor.ts';

describe('log compaction recovery', () => {
  it('finishes a merge whose output appeared, abandons one whose output did not, and leaves other writers alone', () => {
    const { dir, cleanup } = tempDir();
    for (const name of [
      'web-00000001-5-0',
      'web-00000002-5-9',
      'web-00000003-5-20',
      'http-intake-0000000000000007-ab',
    ])
      writeFileSync(join(dir, `${name}.parquet`), 'x');
    writeFileSync(join(dir, 'web-00000002-c.parquet'), 'merged');
    writeFileSync(
      join(dir, '.compact-web-00000002-c.inputs'),
      JSON.stringify(['web-00000001-5-0.parquet', 'web-00000002-5-9.parquet']),
    );
    writeFileSync(
      join(dir, '.compact-http-intake-0000000000000007-c.inputs'),
      JSON.stringify(['http-intake-0000000000000007-ab.parquet']),
    );
    recoverLogCompaction(dir, 'web-');
    expect(readdirSync(dir).sort()).toEqual([
      '.compact-http-intake-0000000000000007-c.inputs',
      'http-intake-0000000000000007-ab.parquet',
      'web-00000002-c.parquet',
      'web-00000003-5-20.parquet',
    ]);
    writeFileSync(
      join(dir, '.compact-web-00000003-c.inputs'),
      JSON.stringify(['web-00000002-c.parquet', 'web-00000003-5-20.parquet']),
    );
    writeFileSync(join(dir, '.web-00000003-c.parquet.tmp'), 'half');
    recoverLogCompaction(dir, 'web-');
    expect(existsSync(join(dir, 'web-00000003-5-20.parquet'))).toBe(true);
    expect(existsSync(join(dir, '.web-00000003-c.parquet.tmp'))).toBe(false);
    cleanup();
  });
});
