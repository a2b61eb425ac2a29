/**
 * Short-lived buffers of a request carved out of shared 4 MiB slabs, as Node's Buffer pool does for
 * buffers under 4 KiB. Under load a fresh ArrayBuffer for each request's ~100 KB (Buffer.from,
 * Buffer.concat) cost more than the work on its bytes: allocating and accounting external memory,
 * and the garbage collections that brings (2.3 µs an event of 100-event batches, against 0.5 µs to
 * write the same text into a slab; docs/benchmarks.md). A slab is freed once no slice of it is held.
 * What is larger than a quarter of a slab gets a buffer of its own. A slice must not be moved to
 * another thread (postMessage's transfer list): that would take the whole slab with it.
 */
export interface Slab {
  /** The UTF-8 bytes of text. */
  text(text: string): Buffer;
  /** The chunks' bytes in one buffer, as Buffer.concat(chunks) gives. */
  concat(chunks: readonly Buffer[]): Buffer;
}

export function createSlab(bytes = 4 * 2 ** 20): Slab {
  let slab = Buffer.alloc(0);
  let used = 0;

  /** Room for `size` bytes at the start of the returned offset, in the current slab or a new one. */
  const reserve = (size: number): number => {
    if (used + size > slab.length) {
      slab = Buffer.allocUnsafe(bytes);
      used = 0;
    }
    return used;
  };
  /** Hands out [start, start + size); the next slice starts 8-byte aligned, as the pool's do. */
  const take = (start: number, size: number): Buffer => {
    used = (start + size + 7) & ~7;
    return slab.subarray(start, start + size);
  };

  return {
    text(text) {
      // A UTF-16 unit takes at most 3 bytes in UTF-8; the exact count is worked out only near the limit.
      const most = text.length * 3 > bytes / 4 ? Buffer.byteLength(text) : text.length * 3;
      if (most > bytes / 4) return Buffer.from(text, 'utf8');
      const start = reserve(most);
      return take(start, slab.write(text, start, 'utf8'));
    },
    concat(chunks) {
      let size = 0;
      for (const chunk of chunks) size += chunk.length;
      if (size > bytes / 4) return Buffer.concat(chunks, size);
      const start = reserve(size);
      let at = start;
      for (const chunk of chunks) at += chunk.copy(slab, at);
      return take(start, size);
    },
  };
}
