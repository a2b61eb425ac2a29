import { expect } from 'vitest';
import type { ParsedIntake } from '../src/collect/index.ts';
import { InletError } from '../src/errors/index.ts';

/** Parses body with parse, expects exactly one event, and returns it with the write key. */
export function parseOne(parse: (body: unknown) => ParsedIntake, body: unknown) {
  const parsed = parse(body);
  expect(parsed.events).toHaveLength(1);
  return { writeKey: parsed.writeKey, event: parsed.events[0] as (typeof parsed.events)[number] };
}

/** Expects parse to refuse body with an INVALID_FIELD InletError naming field. */
export function expectInvalidField(
  parse: (body: unknown) => ParsedIntake,
  body: unknown,
  field: string,
): void {
  try {
    parse(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InletError);
    expect((error as InletError).code).toBe('INVALID_FIELD');
    expect((error as InletError).details).toEqual({ field });
    return;
  }
  throw new Error(`expected ${field} to be refused`);
}
