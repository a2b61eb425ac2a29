import { Transform, type TransformCallback } from 'node:stream';
import { createInflate, createInflateRaw, type Inflate, type InflateRaw } from 'node:zlib';

// HTTP's "deflate" is zlib-wrapped deflate (RFC 9110 §8.4.1.2), but browsers and some clients
// (older IE, libraries following it) send raw deflate under that name: it was a 400. The first two
// bytes tell them apart, as browsers do when they read such a response: a zlib header names method
// 8 and is a multiple of 31 read as a 16-bit number, which raw deflate's first block rarely is.

/** Whether the first two bytes of a body are a zlib header (RFC 1950 §2.2). */
function zlibHeader(first: number, second: number): boolean {
  return (first & 0x0f) === 8 && first >> 4 <= 7 && ((first << 8) | second) % 31 === 0;
}

/**
 * A decoder for Content-Encoding: deflate that takes zlib-wrapped deflate and raw deflate both,
 * chosen by the first two bytes; it streams, holding no more than the two bytes before choosing.
 */
export function createDeflateDecoder(): Transform {
  let inner: Inflate | InflateRaw | undefined;
  let head: Buffer = Buffer.alloc(0);
  // Bytes given to inner, against those it took: zlib ignores what follows the end of a deflate
  // stream (where gunzip refuses it), so a body with more after its stream (a second stream,
  // garbage) was taken in part, and a chunked one could go on for as long as the client sent.
  let fed = 0;
  const takenWhole = (into: Inflate | InflateRaw): Error | undefined =>
    into.bytesWritten >= fed
      ? undefined
      : Object.assign(new Error('data after the end of the deflate stream'), { code: 'Z_DATA_ERROR' });
  const start = (decoder: Transform): Inflate | InflateRaw => {
    const wrapped = head.length >= 2 && zlibHeader(head[0] as number, head[1] as number);
    const chosen = wrapped ? createInflate() : createInflateRaw();
    chosen.on('data', (chunk: Buffer) => decoder.push(chunk));
    chosen.on('error', (error) => decoder.destroy(error));
    return chosen;
  };
  const write = (into: Inflate | InflateRaw, chunk: Buffer, callback: TransformCallback): void => {
    fed += chunk.length;
    // Once inner has taken the chunk: an error of its own reaches the decoder through 'error'.
    into.write(chunk, (error) => {
      if (!error) callback(takenWhole(into));
    });
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (inner) return write(inner, chunk, callback);
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 2) return callback();
      inner = start(this);
      write(inner, head, callback);
    },
    flush(callback) {
      // A body of one byte or none never chose: the raw decoder refuses it as no deflate stream.
      const last = inner ? undefined : head;
      if (last) fed += last.length;
      const chosen = inner ?? start(this);
      inner = chosen;
      chosen.once('end', () => callback(takenWhole(chosen)));
      chosen.end(last);
    },
    destroy(error, callback) {
      inner?.destroy();
      callback(error);
    },
  });
}
