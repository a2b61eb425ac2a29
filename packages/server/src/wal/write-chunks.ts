import { writevSync } from 'node:fs';

/**
 * Writes chunks in order at the descriptor's position, as one writev where the kernel takes them
 * whole: a request's records are written as they were encoded, where Buffer.concat copied every
 * request's into one buffer first (2 % of the collector's CPU for 100-event batches). A short write
 * (a disk that fills up part-way) goes on from the first byte not written, so a failure that
 * follows throws with `progress.written` the bytes that did reach the file.
 */
export function writeChunks(fd: number, chunks: readonly Buffer[], progress: { written: number }): void {
  let at = 0; // the first chunk not wholly written
  let into = 0; // bytes of it already written
  while (at < chunks.length) {
    const rest = chunks.slice(at);
    if (into > 0) rest[0] = (rest[0] as Buffer).subarray(into);
    let wrote = writevSync(fd, rest) + into;
    progress.written += wrote - into;
    while (at < chunks.length && wrote >= (chunks[at] as Buffer).length) {
      wrote -= (chunks[at] as Buffer).length;
      at++;
    }
    into = wrote;
  }
}
