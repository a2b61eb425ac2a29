import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseJson, parseJsonBody } from './json-body.ts';

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

  it('says so when the body is UTF-16, as Windows PowerShell writes a file, with or without a byte order mark', () => {
    const json = '{"event":"x","anonymousId":"a"}';
    const littleEndian = Buffer.from(json, 'utf16le');
    const bigEndian = Buffer.from(littleEndian).swap16();
    for (const body of [
      Buffer.concat([Buffer.from([0xff, 0xfe]), littleEndian]),
      Buffer.concat([Buffer.from([0xfe, 0xff]), bigEndian]),
      littleEndian,
      // Its NUL comes first: it was "not valid JSON: Unexpected token".
      bigEndian,
    ]) {
      expect(() => parseJsonBody(body)).toThrow(
        'The body is UTF-16 text, not UTF-8; send the JSON encoded as UTF-8',
      );
    }
  });

  it('refuses a body with bytes UTF-8 has not, which were stored as U+FFFD, naming the text before', () => {
    const latin1 = Buffer.from('{"event":"caf\u00e9 ordered","anonymousId":"a"}', 'latin1');
    expect(() => parseJsonBody(latin1)).toThrow(
      'The body is not UTF-8: after "{\\"event\\":\\"caf" (character 13) it holds a byte UTF-8 has not (é in Latin-1 or Windows-1252, say); send it encoded as UTF-8.',
    );
    // UTF-8, a replacement character of its own included, is read as before.
    expect(parseJsonBody(Buffer.from('{"event":"café \uFFFD"}'))).toEqual({ event: 'café \uFFFD' });
  });

  it('names an empty body and invalid JSON', () => {
    expect(() => parseJsonBody(Buffer.alloc(0))).toThrow('The body is empty; send a JSON object.');
    // Was "The body is not valid JSON: Unexpected end of JSON input".
    expect(() => parseJsonBody(Buffer.from(' \r\n\t'))).toThrow(
      'The body holds only white space; send a JSON object.',
    );
    expect(() => parseJsonBody(Buffer.from('{"a":'))).toThrow(/^The body is not valid JSON: /);
  });

  it('keeps integers beyond 2^53 as strings of their digits, where JSON.parse rounded them', () => {
    const text =
      '{"id":1234567890123456789,"n":[-9007199254740993,9007199254740991,1.2345678901234567e25],' +
      '"s":"12345678901234567890 \\" 1234567890123456789","t":12345678901234567.5}';
    expect(parseJson(text)).toEqual({
      id: '1234567890123456789',
      n: ['-9007199254740993', 9007199254740991, Number('1.2345678901234567e25')],
      s: '12345678901234567890 " 1234567890123456789',
      // Numbers that are not integers stay numbers, rounded as JSON.parse rounds them.
      t: Number('12345678901234567.5'),
    });
    expect(parseJson('{\n  "id": [\n    1234567890123456789\n  ]\n}')).toEqual({
      id: ['1234567890123456789'],
    });
    // An error names the place in the text as it was sent.
    expect(() => parseJsonBody(Buffer.from('{"id":1234567890123456789,}'))).toThrow(
      /^The body is not valid JSON: .*position 26/,
    );
  });
});
