import { OUT_OF_MEMORY } from '../engine/index.ts';

/** What a build's DuckDB may use, and where it is set, for the message of a build that ran out of it. */
export interface BuildMemory {
  /** models.memory_limit, as inlet.yaml gives it. */
  limit: string;
  /** The folder the build's DuckDB spills to (data/tmp/models). */
  spillFolder: string;
  /** inlet.yaml, or the file --config named. */
  configFile: string;
}

/**
 * What a model's or seed's build that ran out of models.memory_limit says (QUERY_OUT_OF_MEMORY), or
 * undefined for any other error: DuckDB's words alone ("Out of Memory Error: could not allocate
 * block …") named neither the setting nor what to do. DuckDB's first line only: the lines after it
 * (Possible solutions: SET memory_limit …) are settings inlet's models cannot set.
 */
export function outOfMemoryMessage(
  node: { name: string; kind: 'model' | 'seed'; config: { materialized: string } },
  message: string,
  memory: BuildMemory,
): string | undefined {
  if (!OUT_OF_MEMORY.test(message)) return undefined;
  const raise = `raise models.memory_limit in ${memory.configFile}`;
  const todo =
    node.kind === 'seed'
      ? raise
      : node.config.materialized === 'incremental'
        ? `${raise}, or filter the rows it reads (its first build reads all of them)`
        : `${raise}, or make ${node.name} incremental (materialized: incremental, so that a build adds only the new rows) or filter the rows it reads`;
  return `Building ${node.name} needed more memory than models.memory_limit (${memory.limit}) allows, even with what did not fit spilled to ${memory.spillFolder}: ${todo}. DuckDB says: ${message.split('\n')[0]}`;
}
