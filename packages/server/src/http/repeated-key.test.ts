import { expect, it } from 'vitest';
import { repeatedKey } from './repeated-key.ts';

it('names the first key an object of JSON text names twice, by its path, and no key named once in each object', () => {
  for (const [text, path] of [
    ['{"sql": "SELECT 1", "sql": "SELECT 2"}', 'sql'],
    ['{"a": {"b": 1, "c": {}, "b": 2}}', 'a.b'],
    ['{"e": [{"n": 1}, {"n": 1, "n": 2}]}', 'e[1].n'],
    ['[[], {"x": 1, "\\u0078": 2}]', '[1].x'],
    ['{"a": "\\"a\\": 1", "b": {"a": 1}, "c": [{"a": 1}, {"a": 1}], "a": 2}', 'a'],
  ] as const)
    expect(repeatedKey(text), text).toBe(path);
  for (const text of ['{}', '"sql"', '[{"x": 1}, {"x": 1}]', '{"a": {"a": {"a": []}}, "b": "a"}'])
    expect(repeatedKey(text), text).toBeUndefined();
});
