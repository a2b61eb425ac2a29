import { InletError } from '../errors/index.ts';

/** Parses a request body as JSON, with the errors a client is told (empty body, invalid JSON). */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new InletError('INVALID_JSON', 'The body is empty; send a JSON object.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new InletError('INVALID_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
}
