// How deep JSON that inlet writes back out may nest. JSON.parse takes any depth, but JSON.stringify
// overflows Node's stack a few thousand levels down, and a 10 KB body reaches that: an event or a
// log record nested that deep would fail as the server's error, not the client's. Values nested
// more than MAX_JSON_DEPTH levels are refused where they come in, the same on every runtime; no
// analytics payload or log record needs more.

/** Objects and arrays may nest this many levels, the outermost one counted. */
export const MAX_JSON_DEPTH = 64;

/** Whether value holds objects or arrays nested more than depth levels (value itself is one). */
export function deeperThan(value: unknown, depth: number = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (deeperThan(item, depth - 1)) return true;
    return false;
  }
  for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], depth - 1)) return true;
  return false;
}

/**
 * value as JSON with whatever lies deeper than depth levels written as the string "[nested too
 * deeply]": for keeping a refused value in a reject file, where it must not fail in turn.
 */
export function stringifyShallow(value: unknown, depth: number = MAX_JSON_DEPTH): string {
  const cut = (inner: unknown, left: number): unknown => {
    if (typeof inner !== 'object' || inner === null) return inner;
    if (left === 0) return '[nested too deeply]';
    if (Array.isArray(inner)) return inner.map((item) => cut(item, left - 1));
    const out: Record<string, unknown> = {};
    for (const key in inner) out[key] = cut((inner as Record<string, unknown>)[key], left - 1);
    return out;
  };
  return JSON.stringify(cut(value, depth)) ?? 'null';
}
