import { tmpdir } from 'node:os';
import { configFileName, type InletConfig } from '../config/index.ts';
import { OUT_OF_MEMORY } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { type BuildEngine, quoteName } from '../models/index.ts';

/** DuckDB's words when it ran out of memory with no folder to spill to. */
const NO_SPILL_FOLDER = /no temporary directory is specified/;

/**
 * The rows of a table of the lake, or QUERY_OUT_OF_MEMORY saying what to do when counting them
 * needs more than models.memory_limit even spilled (a source table with a merge key is counted over
 * every version of every key): it ended inlet catalog as an error inlet did not foresee (exit 5).
 */
export async function countRows(db: BuildEngine, name: string, config: InletConfig): Promise<number> {
  try {
    return Number((await db.rows(`SELECT count(*)::BIGINT AS n FROM ${quoteName(name)}`))[0]?.n ?? 0);
  } catch (error) {
    const message = (error as Error).message;
    if (!OUT_OF_MEMORY.test(message)) throw error;
    const file = configFileName(config);
    const spill = NO_SPILL_FOLDER.test(message)
      ? `and no folder could be made in the system's temporary folder (${tmpdir()}) for it to spill to (${message.split('\n')[0]}): set TMPDIR to a folder this user may write in, or raise models.memory_limit in ${file}`
      : `even with what did not fit spilled to the system's temporary folder (${tmpdir()}) (${message.split('\n')[0]}): raise models.memory_limit in ${file}, or give that folder more room (TMPDIR names another)`;
    throw new InletError(
      'QUERY_OUT_OF_MEMORY',
      `Counting the rows of ${name} for the catalog needed more memory than models.memory_limit (${config.models.memory_limit}) allows, ${spill}.`,
      { cause: error },
    );
  }
}
