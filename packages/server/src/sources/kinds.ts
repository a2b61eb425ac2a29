import type { SourceKind } from './types.ts';

/**
 * Every kind of source inlet knows, by the `type:` users write in inlet.yaml. Each kind lives in
 * its own folder (sources/<kind>/) with the same file set, and is added here with one line.
 */
export const SOURCE_KINDS: Record<string, SourceKind> = {};
