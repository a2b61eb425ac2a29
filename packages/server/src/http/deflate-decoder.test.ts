import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDeflateDecoder } from './deflate-decoder.ts';

/** What the decoder makes of body written in pieces of `piece` bytes, or the error code it fails with. */
function decode(body: Buffer, piece: number): Promise<string> {
  return new Promise((resolve) => {
    const decoder = createDeflateDecoder();
    const out: Buffer[] = [];
    decoder.on('data', (chunk: Buffer) => out.push(chunk));
    decoder.on('end', () => resolve(Buffer.concat(out).toString()));
    decoder.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
    for (let at = 0; at < body.length; at += piece) decoder.write(body.subarray(at, at + piece));
    decoder.end();
  });
}

describe('Content-Encoding: deflate', () => {
  const text = JSON.stringify({
    batch: [{ type: 'track', event: 'e', properties: { n: 'x'.repeat(5000) } }],
  });

  it('inflates zlib-wrapped and raw deflate alike, whole or a byte at a time', async () => {
    for (const body of [deflateSync(text), deflateRawSync(text), deflateSync(text, { level: 1 })])
      for (const piece of [1, 3, body.length]) expect(await decode(body, piece)).toBe(text);
  });

  it('fails on what is neither, an empty body or a single byte, as zlib does', async () => {
    for (const body of [Buffer.from('not deflate at all'), Buffer.alloc(0), Buffer.from([0x78])])
      expect(await decode(body, 1)).toMatch(/^error Z_(DATA|BUF)_ERROR$/);
  });

  it('fails on data after the end of the stream, as gunzip does: it was dropped unread', async () => {
    for (const stream of [deflateSync(text), deflateRawSync(text)])
      for (const after of [Buffer.from('GARBAGE'), deflateRawSync(text)])
        for (const piece of [1, 64, stream.length + after.length])
          expect(await decode(Buffer.concat([stream, after]), piece)).toBe('error Z_DATA_ERROR');
    // At once, not at the body's end: a chunked body could otherwise go on as long as its client sent.
    const decoder = createDeflateDecoder();
    const failed = new Promise((resolve) => decoder.on('error', resolve));
    decoder.resume();
    decoder.write(deflateRawSync(text));
    decoder.write(Buffer.from('GARBAGE'));
    expect(await failed).toMatchObject({ code: 'Z_DATA_ERROR' });
  });
});
