import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorRegistry } from './index.ts';

describe('error registry', () => {
  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    const undocumented = Object.keys(errorRegistry).filter((code) => !doc.includes(`### ${code}`));
    expect(undocumented).toEqual([]);
  });
});
