import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { createOnce } from './index.ts';

describe('createOnce', () => {
  it('creates a file whole, once: a second call keeps the first content and says it did not create it', () => {
    const temp = tempDir();
    const path = join(temp.dir, 'api-token');
    expect(createOnce(path, 'first\n')).toBe(true);
    expect(createOnce(path, 'second\n')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('first\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(temp.dir)).toEqual(['api-token']); // no drafts left behind
    temp.cleanup();
  });
});
