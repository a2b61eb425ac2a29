import { keyIn } from '../config/index.ts';
import { OUT_OF_MEMORY } from '../engine/index.ts';

/** What a build's DuckDB may use, and where it is set, for the message of a build or a test that ran out of it. */
export interface BuildMemory {
  /** models.memory_limit, as the configuration gives it. */
  limit: string;
  /** The folder the build's DuckDB spills to (data/tmp/models). */
  spillFolder: string;
  /** The configuration file in use, as messages name it (configFileName). */
  configFile: string;
}

/**
 * Where to raise the limit: in the file --config named (it said inlet.yaml whichever was read), or,
 * with none read, in a new ./inlet.yaml (keyIn).
 */
const raiseLimit = (memory: BuildMemory): string =>
  `raise ${keyIn('models.memory_limit', memory.configFile)}`;

/** What needed more than models.memory_limit allows, with where what did not fit spilled. */
const needed = (what: string, memory: BuildMemory): string =>
  `${what} needed more memory than models.memory_limit (${memory.limit}) allows, even with what did not fit spilled to ${memory.spillFolder}`;

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
  const raise = raiseLimit(memory);
  const todo =
    node.kind === 'seed'
      ? raise
      : node.config.materialized === 'incremental'
        ? `${raise}, or filter the rows it reads (its first build reads all of them)`
        : `${raise}, or make ${node.name} incremental (materialized: incremental, so that a build adds only the new rows) or filter the rows it reads`;
  return `${needed(`Building ${node.name}`, memory)}: ${todo}. DuckDB says: ${message.split('\n')[0]}`;
}

/**
 * What a data test that ran out of models.memory_limit says after DuckDB's first line, message: its
 * words alone named neither the setting nor what to do, as a model's build's did.
 */
export const testOutOfMemoryMessage = (message: string, memory: BuildMemory): string =>
  `${message} ${needed('The test', memory)}: ${raiseLimit(memory)}, or make the test read fewer rows (filter them in its SQL)`;
