/** @module config: the inlet.yaml schema, ${ENV} expansion and validation; nothing else reads process.env. */

export { apiTokenProblem, MIN_API_TOKEN_LENGTH } from './api-token.ts';
export { configFileName, keyIn } from './config-file-name.ts';
export { durationMs } from './duration.ts';
export { type Env, expandEnv } from './env-expansion.ts';
export { describeIssue, issuePath } from './issue-message.ts';
export { leftOutSource, leftOutSourceError, warnLeftOutSources } from './left-out-source.ts';
export { type InletConfig, loadConfig, parseConfig } from './load.ts';
export { sizeBytes } from './memory-size.ts';
export { configSchema, DUCKDB_SCHEMAS, type InletConfigInput } from './schema.ts';
export { sameTimeZone, timeZoneToWrite } from './time-zone.ts';
export { utf8Text } from './utf8-text.ts';
export { VarDate } from './var-date.ts';
export { VarFloat } from './var-float.ts';
export { parseVarsYaml, readStepVars } from './vars-yaml.ts';
export {
  CATCHUP_LIMIT,
  type WorkflowConfig,
  type WorkflowStep,
  workflowSchema,
} from './workflow-schema.ts';
export { MAX_WRITE_KEY_LENGTH } from './write-key.ts';
export { parseYamlStrictly, unknownTag, unknownTagMessage, yamlErrorLine } from './yaml-tags.ts';
