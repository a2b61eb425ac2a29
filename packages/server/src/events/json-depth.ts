// How deep JSON that inlet writes back out may nest. JSON.parse takes any depth, but JSON.stringify
// overflows Node's stack a few thousand levels down, and a 10 KB body reaches that: an event or a
// log record nested that deep would fail as the server's error, not the client's. Values nested
// more than MAX_JSON_DEPTH levels are refused where they come in, the same on every runtime; no
// analytics payload or log record needs more.

/** Objects and arrays may nest this many levels, the outermost one counted. */
export const MAX_JSON_DEPTH = 64;

/** A key as it reads in a field path: `.name`, or `["a b"]` when it is no plain name. */
const pathKey = (key: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;

/** What JSON cannot keep of a value as it came (see jsonFault). */
export type JsonFault = { kind: 'deep' } | { kind: 'number'; path: string };

/**
 * What in value JSON cannot keep as it came: objects or arrays nested more than depth levels, or
 * a number beyond a 64-bit float, with its path (`.a[2]`): JSON.parse reads 1e400 as Infinity,
 * which JSON.stringify writes as null, so the value was stored as null. One walk for both, as the collector makes it over every event's properties and context.
 */
export function jsonFault(value: unknown, depth: number = MAX_JSON_DEPTH): JsonFault | undefined {
  if (typeof value !== 'object' || value === null)
    return typeof value === 'number' && !Number.isFinite(value) ? { kind: 'number', path: '' } : undefined;
  if (depth === 0) return { kind: 'deep' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const fault = jsonFault(value[i], depth - 1);
      if (fault) return fault.kind === 'deep' ? fault : { kind: 'number', path: `[${i}]${fault.path}` };
    }
    return undefined;
  }
  for (const key in value) {
    const fault = jsonFault((value as Record<string, unknown>)[key], depth - 1);
    if (fault)
      return fault.kind === 'deep' ? fault : { kind: 'number', path: `${pathKey(key)}${fault.path}` };
  }
  return undefined;
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
