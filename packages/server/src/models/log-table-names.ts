import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { createSources } from '../sources/index.ts';
import { loadProject } from './project-loader.ts';
import type { Project } from './project-node.ts';

/**
 * Refuses a log source whose table is named as a model or seed (a built-in mart such as
 * daily_active_users too), before a sync writes that table: one view cannot be both, and `inlet
 * run` refused the project only once the table held rows. `only` checks that one source. Without
 * `project`, the project is read; one that cannot be read is left to the commands that build it.
 */
export function checkLogTableNames(
  config: InletConfig,
  options: { project?: Project; only?: string } = {},
): void {
  const file = configFileName(config);
  const tables = createSources(config, file).flatMap((source, i) =>
    options.only === undefined || source.name === options.only
      ? (source.sharedTables ?? []).map((shared) => ({ ...shared, source: source.name, i }))
      : [],
  );
  if (tables.length === 0) return;
  let project = options.project;
  try {
    project ??= loadProject({
      projectDir: config.project_dir,
      builtin: config.models.builtin,
      configPath: config.configPath,
    });
  } catch {
    return;
  }
  for (const { table, option, source, i } of tables) {
    const node = project.nodes.get(table);
    if (!node) continue;
    const what = node.origin === 'builtin' ? `the built-in mart ${table}` : `the ${node.kind} ${node.path}`;
    const or =
      node.origin === 'builtin'
        ? 'or turn the built-in marts off (models: { builtin: false })'
        : `or rename the ${node.kind}`;
    throw new InletError(
      'CONFIG_INVALID',
      // The default tables (access_logs, app_logs) are no model's name (project-files.ts refuses it).
      `${file} is not valid:\n  sources[${i}].${option}: the log table ${table} is also the name of ${what}, and one view cannot be both; ` +
        `name another table (e.g. ${option}: ${source}_${table}), ${or}`,
    );
  }
}
