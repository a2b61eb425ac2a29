import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { openStateStore } from './index.ts';

describe('state store', () => {
  it('keeps checkpoints across reopen and shares them between two handles', () => {
    const temp = tempDir();
    const path = join(temp.dir, 'state.sqlite');
    const a = openStateStore(path);
    const b = openStateStore(path);
    a.setCheckpoint('tail:nginx', '/var/log/nginx/access.log', { inode: 12, offset: 4096 });
    expect(b.getCheckpoint('tail:nginx', '/var/log/nginx/access.log')).toEqual({ inode: 12, offset: 4096 });
    a.close();
    b.close();
    const c = openStateStore(path);
    expect(c.getCheckpoint('tail:nginx', '/var/log/nginx/access.log')).toEqual({ inode: 12, offset: 4096 });
    c.deleteCheckpoint('tail:nginx', '/var/log/nginx/access.log');
    expect(c.getCheckpoint('tail:nginx', '/var/log/nginx/access.log')).toBeUndefined();
    c.close();
    temp.cleanup();
  });
});
