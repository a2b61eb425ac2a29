import { analyzeSelect, type BuildEngine, type Project, renderForBuild } from '../models/index.ts';

/**
 * A table as the lake names it: DuckDB's main.events (any case) is events, as a build reads it; left
 * so, it was a table main.events that is not there, and events had no downstream.
 */
const inMain = (table: string) => table.replace(/^main\./i, '');

/** The tables each model of the project reads, by model name. */
export type SqlInputs = (
  db: BuildEngine,
  project: Project | undefined,
  timezone: string,
) => Promise<Map<string, string[]>>;

/**
 * The tables each model of the project reads (events, crm.customers, a model read by name or by
 * ref()), from its SQL as written now, listed by DuckDB's parser as a build lists them (CTE names and
 * table functions are no tables): for an incremental model, as its first build and as a later one
 * run it. A model whose SQL DuckDB cannot parse is left out: its build says why.
 *
 * What a parse found is kept by the rendered SQL's text, as nothing else goes into it: the lineage
 * and every table's page parsed each model through DuckDB at each request, and an edit is new text,
 * parsed then. Only the texts the project has now are kept, so an edited model's old SQL is let go.
 */
export function createSqlInputs(onParsed?: (model: string) => void): SqlInputs {
  let known = new Map<string, string[] | undefined>();
  return async (db, project, timezone) => {
    const used = new Map<string, string[] | undefined>();
    const tablesRead = async (model: string, sql: string) => {
      if (!used.has(sql)) {
        if (known.has(sql)) used.set(sql, known.get(sql));
        else {
          const analysis = await analyzeSelect(db.connection, sql);
          onParsed?.(model);
          used.set(sql, analysis.ok ? analysis.tables : undefined);
        }
      }
      return used.get(sql);
    };
    const inputs = new Map<string, string[]>();
    const day = new Date().toISOString().slice(0, 10);
    for (const node of project?.nodes.values() ?? []) {
      if (node.kind !== 'model') continue;
      const read = new Set<string>();
      const builds = node.config.materialized === 'incremental' ? [false, true] : [false];
      for (const incremental of builds) {
        let sql: string;
        try {
          sql = renderForBuild(node.sql, node.name, { from: day, to: day, timezone, incremental });
        } catch {
          break;
        }
        const tables = await tablesRead(node.name, sql);
        if (tables === undefined) break;
        for (const table of tables.map(inMain))
          if (table.toLowerCase() !== node.name.toLowerCase()) read.add(table);
        if (incremental === builds.at(-1)) inputs.set(node.name, [...read]);
      }
    }
    known = used;
    return inputs;
  };
}
