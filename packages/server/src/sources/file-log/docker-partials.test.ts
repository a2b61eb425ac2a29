import { describe, expect, it } from 'vitest';
import { createDockerPartJoiner, joinDockerRecords } from './docker-partials.ts';
import type { SplitLine } from './line-splitter.ts';

const docker = (log: string, stream = 'stdout') =>
  JSON.stringify({ log, stream, time: '2026-12-01T00:00:00Z' });

/** The records as lines of a file, one after another. */
function lines(texts: string[]): SplitLine[] {
  let start = 0;
  return texts.map((text) => {
    const line = { text, start, end: start + Buffer.byteLength(text) + 1 };
    start = line.end;
    return line;
  });
}

describe('Docker json-file parts', () => {
  it('joins the parts of a split line into one record with the first part’s time and stream', () => {
    const joiner = createDockerPartJoiner(1024);
    const [a, b, c, d] = lines([docker('ab'), docker('cd'), docker('ef\n'), docker('whole\n')]);
    expect(joiner.push(a as SplitLine)).toEqual([]);
    expect(joiner.push(b as SplitLine)).toEqual([]);
    expect(joiner.pendingStart()).toBe(0);
    expect(joiner.push(c as SplitLine)).toEqual([{ text: docker('abcdef\n'), start: 0, end: c?.end }]);
    expect(joiner.pendingStart()).toBeUndefined();
    expect(joiner.push(d as SplitLine)).toEqual([d]);
  });

  it('keeps parts no last part follows as a record of their own, and the line after them', () => {
    const joiner = createDockerPartJoiner(1024);
    const [a, b, c] = lines([docker('ab'), docker('cd'), 'not a Docker record']);
    joiner.push(a as SplitLine);
    joiner.push(b as SplitLine);
    expect(joiner.push(c as SplitLine)).toEqual([{ text: docker('abcd'), start: 0, end: b?.end }, c]);
    const [e] = lines([docker('tail')]);
    joiner.push(e as SplitLine);
    expect(joiner.finish()).toEqual([{ text: docker('tail'), start: 0, end: e?.end }]);
  });

  it("joins each stream's parts apart, without holding the other stream's lines between them", () => {
    const joiner = createDockerPartJoiner(1024);
    const [a, x, b, y, c, z] = lines([
      docker('ab'),
      docker('x\n', 'stderr'),
      docker('cd'),
      docker('y', 'stderr'),
      docker('ef\n'),
      docker('z\n', 'stderr'),
    ]);
    expect(joiner.push(a as SplitLine)).toEqual([]);
    // The stderr line at once, while the stdout line waits for its last part.
    expect(joiner.push(x as SplitLine)).toEqual([x]);
    for (const line of [b, y]) expect(joiner.push(line as SplitLine)).toEqual([]);
    expect(joiner.pendingStart()).toBe(0);
    expect(joiner.held()).toEqual({ readTo: y?.end, open: { stdout: 0, stderr: y?.start } });
    expect(joiner.push(c as SplitLine)).toEqual([{ text: docker('abcdef\n'), start: 0, end: c?.end }]);
    expect(joiner.pendingStart()).toBe(y?.start);
    expect(joiner.push(z as SplitLine)).toEqual([
      { text: docker('yz\n', 'stderr'), start: y?.start, end: z?.end },
    ]);
    expect(joiner.pendingStart()).toBeUndefined();
    expect(joiner.held()).toBeUndefined();
  });

  it('read again from a split line held, skips the lines written after it and takes its parts', () => {
    const [a, x, b, y, c] = lines([
      docker('ab'),
      docker('x\n', 'stderr'),
      docker('cd'),
      docker('y\n', 'stderr'),
      docker('ef\n'),
    ]);
    const first = createDockerPartJoiner(1024);
    for (const line of [a, x, b]) first.push(line as SplitLine);
    const held = first.held();
    expect(held).toEqual({ readTo: b?.end, open: { stdout: 0 } });
    const again = createDockerPartJoiner(1024, held);
    for (const line of [a, x, b]) expect(again.push(line as SplitLine)).toEqual([]);
    expect(again.push(y as SplitLine)).toEqual([y]);
    expect(again.push(c as SplitLine)).toEqual([{ text: docker('abcdef\n'), start: 0, end: c?.end }]);
    expect(again.held()).toBeUndefined();
  });

  it('lets parts stand on their own before a line that is no Docker record', () => {
    const joiner = createDockerPartJoiner(300);
    const [a, x, other] = lines([docker('ab'), docker('x\n', 'stderr'), 'not a Docker record']);
    joiner.push(a as SplitLine);
    expect(joiner.push(x as SplitLine)).toEqual([x]);
    expect(joiner.push(other as SplitLine)).toEqual([{ text: docker('ab'), start: 0, end: a?.end }, other]);
  });

  it('takes a {"log": …} record without Docker\'s stream and time for a whole line, as Fluent Bit\'s tail writes one', () => {
    const joiner = createDockerPartJoiner(1024);
    const [a, b] = lines(['{"log":"one"}', '{"log":"two"}']);
    expect(joiner.push(a as SplitLine)).toEqual([a]);
    expect(joiner.push(b as SplitLine)).toEqual([b]);
  });

  it('returns parts past maxBytes at once as a line too long, holding their start', () => {
    const joiner = createDockerPartJoiner(300);
    const [a, b] = lines([docker('x'.repeat(200)), docker('y'.repeat(200))]);
    expect(joiner.push(a as SplitLine)).toEqual([]);
    const [cut] = joiner.push(b as SplitLine);
    expect(cut).toMatchObject({
      start: 0,
      end: b?.end,
      tooLongBytes: Buffer.byteLength(docker(`${'x'.repeat(200)}${'y'.repeat(200)}`)),
    });
    expect(cut?.text).toHaveLength(300);
    expect(joiner.pendingStart()).toBeUndefined();
  });

  it('joins the POST /logs records of a split line of each stream, and leaves parts no last part follows', () => {
    const part = (log: string, stream = 'stdout') => ({ record: { log, stream } });
    expect(joinDockerRecords([part('a'), part('b'), part('c\n'), part('d\n')])).toEqual([
      part('abc\n'),
      part('d\n'),
    ]);
    // Another stream's record between them comes before the joined one; the body's end, a record
    // of no stream (a reject) leaves the parts before it as they are.
    expect(joinDockerRecords([part('a'), part('x\n', 'stderr'), part('b\n'), part('tail')])).toEqual([
      part('x\n', 'stderr'),
      part('ab\n'),
      part('tail'),
    ]);
    const cut = [part('a'), part('x\n', 'stderr'), { reason: 'not valid JSON' }, part('b\n'), part('tail')];
    expect(joinDockerRecords(cut)).toEqual([cut[1], cut[0], ...cut.slice(2)]);
    const tail = [{ record: { log: 'one' } }, { record: { log: 'two\n' } }];
    expect(joinDockerRecords(tail)).toEqual(tail);
  });
});
