/** @module scheduler: workflows on cron schedules (sync, run, test steps), retries, catch-up and run history. */
export { cronTimes, dueTimes, nextTime } from './cron-schedule.ts';
export {
  createRunHistory,
  RUN_STATUSES,
  type RunHistory,
  type RunRecord,
  type RunStatus,
  runById,
  runsLimitProblem,
  type StepRecord,
} from './run-history.ts';
export { createScheduler, type Scheduler, STALE_RUN_MS } from './scheduler.ts';
export { shownAbandonedLine } from './stale-runs.ts';
export { createStepHandlers, type StepContext, type StepHandlers } from './step-handlers.ts';
export {
  type LoadedWorkflows,
  loadEachWorkflow,
  loadWorkflows,
  type Workflow,
  type WorkflowProblem,
} from './workflow-loader.ts';
export { startableWorkflowNames, workflowNames } from './workflow-names.ts';
export {
  withLeftOutWorkflows,
  workflowProblemLine,
  workflowProblems,
  workflowsToSchedule,
} from './workflow-problems.ts';
export { listWorkflows, noWorkflowConfigured, warnLeftOutWorkflows } from './workflows-left-out.ts';
export { workflowsToStart } from './workflows-to-start.ts';
