/** @module models: SQL models and seeds in a project folder, their graph, builds, incremental writes and data tests. */
export { type BuildEngine, createBuildEngine } from './build-engine.ts';
export type { DataTestResult } from './data-tests.ts';
export { sourceDescription, sourceTableConfigs } from './dbt-sources.ts';
export { checkLogTableNames } from './log-table-names.ts';
export { createTempView, describeSelect, dropTempView } from './materialize.ts';
export { columnDescriptions, type ModelConfig } from './model-config.ts';
export { buildGraph, type ModelGraph, selectNodes } from './model-graph.ts';
export {
  backfillProblem,
  dayProblem,
  openProject,
  projectWarnings,
  type RunOptions,
  type RunResult,
  runModels,
} from './model-runner.ts';
export { renderForBuild, templateCode } from './model-template.ts';
export { parseVarsYaml } from './model-vars.ts';
export { firstBuildSql, type ModelResult } from './node-builder.ts';
export { nothingPickedNote, runPickedNothing, testPickedNothing } from './nothing-picked.ts';
export { BUILTIN_PROJECT_DIR, loadProject } from './project-loader.ts';
export type { Project, ProjectNode, SingularTest } from './project-node.ts';
export { summarizeModel, summarizeTest } from './run-summary.ts';
export { configuredSources, sourceProblem } from './source-check.ts';
export { sourceListing } from './source-selectors.ts';
export { checkSourceSelectors, splitSourceSelectors } from './source-tests.ts';
export { quoteName } from './sql-names.ts';
export { analyzeSelect } from './sql-references.ts';
export { testModels } from './test-runner.ts';
