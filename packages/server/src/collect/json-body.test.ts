import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseJsonBody } from './json-body.ts';

describe('parseJsonBody', () => {
  it('reads a body that starts with a UTF-8 byte order mark, as some Windows clients write', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"event":"x"}')]);
    expect(parseJsonBody(body)).toEqual({ event: 'x' });
  });

  it('says so when the body is gzip sent without Content-Encoding', () => {
    expect(() => parseJsonBody(gzipSync('{"batch":[]}'))).toThrow(
      'The body is gzip-compressed, but the request has no Content-Encoding: gzip header; send it with one.',
    );
  });

  it('names an empty body and invalid JSON', () => {
    expect(() => parseJsonBody(Buffer.alloc(0))).toThrow('The body is empty; send a JSON object.');
    expect(() => parseJsonBody(Buffer.from('{"a":'))).toThrow(/^The body is not valid JSON: /);
  });
});
