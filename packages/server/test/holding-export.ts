import type { QueryEngine } from '../src/engine/index.ts';

/** A query of a million groups, whose export holds most of a 64MB memory_limit. */
export const MILLION_GROUPS = 'SELECT range AS k, count(*) AS n FROM range(1000000) GROUP BY k';

/**
 * An export of a million groups paused after its first rows, holding them, until release(); it
 * resolves once the first rows are read (or the export ended without them).
 */
export async function holdingExport(engine: Pick<QueryEngine, 'stream'>) {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reading: () => void = () => {};
  const read = new Promise<void>((resolve) => {
    reading = resolve;
  });
  const done = engine.stream(MILLION_GROUPS, {}, async ({ chunks, stopped }) => {
    for await (const _ of chunks) {
      reading();
      // A consumer that stops reading still hears the export stopped (its time limit), as the API's does.
      await Promise.race([held, new Promise((resolve) => stopped.addEventListener('abort', resolve))]);
      return;
    }
  });
  await Promise.race([read, done]);
  return { release, done };
}
