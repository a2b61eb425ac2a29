import { describe, expect, it } from 'vitest';
import { createSlab } from './slab.ts';

describe('slab', () => {
  it('joins chunks as Buffer.concat does, each result its own bytes while later ones are made', () => {
    const slab = createSlab(64 * 1024);
    const kept: Array<{ joined: Buffer; expected: Buffer }> = [];
    for (let i = 0; i < 500; i++) {
      const chunks = Array.from({ length: 1 + (i % 4) }, (_, j) =>
        Buffer.alloc(((i * 37 + j) % 3000) + 1, i + j),
      );
      kept.push({ joined: slab.concat(chunks), expected: Buffer.concat(chunks) });
    }
    for (const { joined, expected } of kept) expect(joined.equals(expected)).toBe(true);
    expect(new Set(kept.map(({ joined }) => joined.buffer)).size).toBeLessThan(kept.length / 10);
  });

  it('gives what is larger than a quarter of a slab a buffer of its own', () => {
    const slab = createSlab(64 * 1024);
    const large = slab.concat([Buffer.alloc(10_000, 1), Buffer.alloc(10_000, 2)]);
    expect(large.buffer.byteLength).toBe(20_000);
    // 6,000 characters of up to 3 bytes each may pass a quarter; their 18,000 bytes do.
    const text = slab.text('講'.repeat(6000));
    expect(text.toString('utf8')).toBe('講'.repeat(6000));
    expect(text.buffer.byteLength).toBe(18_000);
    const small = slab.text('講'.repeat(100));
    expect(small.toString('utf8')).toBe('講'.repeat(100));
    expect(small.buffer.byteLength).toBe(64 * 1024);
  });
});
