import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers.ts';
import { InletError } from '../errors/index.ts';
import { errorFields } from './error-fields.ts';

describe('errorFields', () => {
  it('logs an InletError as its code and message once, without a stack or its cause', () => {
    const { logger, lines } = capturingLogger<Record<string, unknown>>();
    const cause = new Error('Binder Error: column "nosuch" not found');
    const error = new InletError(
      'SOURCE_SCHEMA_INVALID',
      'primary_key "nosuch" is not a column; fix it in inlet.yaml.',
      {
        cause,
      },
    );
    logger.error(errorFields(error), 'failed');
    expect(lines[0]).toMatchObject({ code: 'SOURCE_SCHEMA_INVALID', error: error.message });
    expect(lines[0]?.err).toBeUndefined();
    expect(JSON.stringify(lines[0])).not.toContain('Binder Error');
  });

  it('keeps any other error whole, with its stack, for finding where it came from', () => {
    const { logger, lines } = capturingLogger<{ err?: { message: string; stack: string } }>();
    logger.error(errorFields(new TypeError('x is undefined')), 'failed');
    expect(lines[0]?.err?.message).toBe('x is undefined');
    expect(lines[0]?.err?.stack).toContain('    at ');
    expect(lines[0]).not.toHaveProperty('code');
  });
});
