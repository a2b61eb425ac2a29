import type { Duplex } from 'node:stream';

// A client that speaks HTTP/2 from the first byte (prior knowledge, h2c: curl --http2-prior-knowledge,
// a proxy whose upstream is set to HTTP/2) cannot read an HTTP/1.1 answer: it got a 400 it showed as
// "Empty reply from server" or a protocol error. It is answered in HTTP/2 instead.

/** RFC 9113 §7: the peer must use HTTP/1.1 instead. */
const HTTP_1_1_REQUIRED = 0xd;

/** One HTTP/2 frame on stream 0. */
function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  return Buffer.concat([head, payload]);
}

/**
 * Answers a connection that opened with HTTP/2's preface: the server's preface (an empty SETTINGS
 * frame), then GOAWAY with HTTP_1_1_REQUIRED and `message` as its debug data, which HTTP/2 clients
 * show; then closes it.
 */
export function refuseHttp2(socket: Duplex, message: string): void {
  const goaway = Buffer.alloc(8);
  goaway.writeUInt32BE(HTTP_1_1_REQUIRED, 4);
  if (socket.writable)
    socket.write(
      Buffer.concat([frame(0x4, Buffer.alloc(0)), frame(0x7, Buffer.concat([goaway, Buffer.from(message)]))]),
    );
  socket.end();
}
