import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorRegistry } from './index.ts';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'errors.md'), 'utf8');

describe('error registry', () => {
  it('documents every code in docs/errors.md', () => {
    const undocumented = Object.keys(errorRegistry).filter((code) => !doc.includes(`### ${code}`));
    expect(undocumented).toEqual([]);
  });

  it("gives each code's HTTP status in its heading of docs/errors.md, and none for a command's error", () => {
    const headings = new Map(
      [...doc.matchAll(/^### ([A-Z_]+)(?: \((\d+)\))?$/gm)].map(([, code, status]) => [code, status]),
    );
    // A status of 1 is an exit of the command (inlet start), which has no HTTP status to show.
    const wrong = Object.entries(errorRegistry)
      .filter(([code, status]) => headings.get(code) !== (status === 1 ? undefined : String(status)))
      .map(([code, status]) => `${code}: ${status}, the page says ${headings.get(code) ?? 'none'}`);
    expect(wrong).toEqual([]);
  });
});
