import { z } from 'zod';

const UNITS: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Below this DuckDB cannot even take its first block: every query, load or copy would fail. */
const MIN_MEMORY_BYTES = 64 * 1000 ** 2;

/**
 * 2^53 bytes, exact as a number (the query process's cap adds to it). DuckDB refused 2^64 and more
 * (Failed to set config, exit 5), and read 2^64 itself (17179869184GiB) as nothing, so every query
 * ran out of memory.
 */
const MAX_MEMORY_BYTES = 2 ** 53;

/** Bytes of a size as DuckDB writes it (512MB, 1.5GiB), or undefined when it is not one. */
export function sizeBytes(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b)$/i.exec(value.trim());
  const unit = match && UNITS[(match[2] ?? '').toLowerCase()];
  return match && unit ? Number(match[1]) * unit : undefined;
}

/** A DuckDB memory_limit: a size such as 512MB or 2GB, at least 64MB. */
export function memorySize(fallback: string) {
  return z
    .string({
      // A number alone was told to be put in quotes, which made it text that is no size either.
      error: (issue) =>
        typeof issue.input === 'number'
          ? `must be a size with its unit, such as 512MB or 2GB, not the number ${issue.input}`
          : undefined,
    })
    .refine((value) => sizeBytes(value) !== undefined, 'must be a size such as 512MB or 2GB')
    .refine(
      (value) => (sizeBytes(value) ?? Number.POSITIVE_INFINITY) >= MIN_MEMORY_BYTES,
      'must be at least 64MB',
    )
    .refine((value) => (sizeBytes(value) ?? 0) <= MAX_MEMORY_BYTES, 'must be at most 8192TiB')
    .default(fallback);
}
