import { parseJson } from '../collect/index.ts';

/**
 * Whether a body sent as application/json is JSON lines after all: its first line a JSON value
 * and more lines after it. Fluent Bit's `format json_lines` sends Content-Type: application/json
 * (1.x, and 3.x's HTTP client); such a body was refused whole as INVALID_JSON, and Fluent Bit
 * retried it forever. A body whose first line is not JSON on its own (a broken or pretty-printed
 * document) is still refused as JSON.
 */
export function isJsonLines(body: string): boolean {
  const lines = body.trimStart().split('\n', 2);
  if (lines.length < 2) return false;
  try {
    parseJson(lines[0] as string);
    return true;
  } catch {
    return false;
  }
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Two or more JSON objects written one after another (Fluent Bit's `format json_stream`,
 * `{…}{…}`, sent as application/json) as the text of one JSON array of them; undefined for
 * any other body. Only the structure is looked at here: the array is parsed as any other.
 */
export function objectStreamAsArray(body: string): string | undefined {
  const objects: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (depth === 0) {
      if (c === 0x7b) {
        start = i;
        depth = 1;
      } else if (!WHITESPACE.has(c)) return undefined;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) objects.push(body.slice(start, i + 1));
  }
  return depth === 0 && objects.length > 1 ? `[${objects.join(',')}]` : undefined;
}
