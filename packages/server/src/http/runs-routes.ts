import type { FastifyInstance } from 'fastify';
import { InletError } from '../errors/index.ts';
import {
  type LoadedWorkflows,
  RUN_STATUSES,
  type RunHistory,
  runById,
  runsLimitProblem,
  STALE_RUN_MS,
} from '../scheduler/index.ts';
import { createTokenCheck } from './query-routes.ts';
import { refuseAnyParameter, refuseUnknownParameters } from './url-parameters.ts';

const STATUSES: readonly string[] = RUN_STATUSES;
const LIST_PARAMETERS = ['workflow', 'status', 'limit', 'before'];

interface ListQuery {
  limit: number;
  workflow: string | undefined;
  status: string | undefined;
  before: number | undefined;
}

const invalid = (field: string, message: string) =>
  new InletError('INVALID_FIELD', `${field}: ${message}`, { details: { field } });

function parseListQuery(query: Record<string, string | string[] | undefined>): ListQuery {
  refuseUnknownParameters(query, 'GET /api/runs', LIST_PARAMETERS, 'workflow, status, limit and before');
  // ?workflow=a&workflow=b arrives as a list, which SQLite cannot compare with a name.
  const one = (field: string) => {
    const value = query[field];
    if (Array.isArray(value))
      throw invalid(field, `give one ${field === 'workflow' ? 'workflow name' : 'value'}, once`);
    return value;
  };
  const [workflow, status, limitText, beforeText] = LIST_PARAMETERS.map(one);
  if (workflow?.trim() === '')
    throw invalid('workflow', 'give a workflow name, or leave workflow out for the runs of all of them');
  // No workflow has a longer name (inlet.yaml refuses one); the 404 repeated 5,000 characters whole.
  if (workflow !== undefined && workflow.length > 63)
    throw invalid('workflow', `is ${workflow.length} characters, and a workflow's name is at most 63`);
  // As inlet runs --limit takes it, from the same check.
  const limitProblem = limitText === undefined ? undefined : runsLimitProblem(limitText);
  if (limitProblem) throw invalid('limit', limitProblem);
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (status !== undefined && !STATUSES.includes(status))
    throw invalid('status', `must be one of ${STATUSES.join(', ')}`);
  const before = beforeText === undefined ? undefined : Number(beforeText);
  if (
    before !== undefined &&
    (!/^\d+$/.test(beforeText ?? '') || !Number.isSafeInteger(before) || before < 1)
  )
    throw invalid(
      'before',
      'must be a run id (a whole number above 0), such as the id of the oldest run of the page before',
    );
  return { limit, workflow, status, before };
}

/**
 * One page of runs, newest first, and the link to the next (older) one while there is more: the
 * cursor is a run id, so runs that start meanwhile never shift a page as an offset would.
 */
function listPage(runs: RunHistory, filter: ListQuery) {
  const found = runs.list({ ...filter, limit: filter.limit + 1 });
  const page = found.slice(0, filter.limit);
  const oldest = page.at(-1);
  if (found.length <= filter.limit || !oldest) return { runs: page, next: null };
  const params = new URLSearchParams();
  if (filter.workflow !== undefined) params.set('workflow', filter.workflow);
  if (filter.status !== undefined) params.set('status', filter.status);
  params.set('limit', String(filter.limit));
  params.set('before', String(oldest.id));
  return { runs: page, next: `/api/runs?${params}` };
}

/**
 * The workflows as the scheduler loaded them, and each it left out with its error: a workflow file with
 * a typo was found only in the start-up log.
 */
function workflowsBody({ workflows, problems }: LoadedWorkflows) {
  return {
    workflows: workflows.map((w) => ({
      name: w.name,
      file: w.origin,
      cron: w.cron,
      timezone: w.timezone,
      enabled: w.enabled,
      steps: w.steps.map((step) => step.text),
    })),
    not_loading: problems.map((p) => ({
      name: p.name,
      file: p.origin,
      code: p.error.code,
      error: p.error.message,
    })),
  };
}

/**
 * GET /api/runs (newest first; ?workflow=&status=&limit=&before=) and /api/runs/:id with each step's
 * log; GET /api/workflows, those that load and those that do not.
 */
export function registerRunsRoutes(
  app: FastifyInstance,
  options: {
    runs: RunHistory;
    apiToken: string;
    workflowNames: () => string[];
    /** The names as a message lists them, each left out by an unset variable saying so (listWorkflows). */
    listWorkflows: (names: string[]) => string;
    /** The workflows the scheduler runs, and those it left out for not loading. */
    workflows: () => LoadedWorkflows;
  },
) {
  const { runs } = options;
  app.register(async (scope) => {
    scope.addHook('onRequest', createTokenCheck(options.apiToken));
    // A run whose process died shows as such in a process without a scheduler (--role web) too.
    scope.addHook('preHandler', async () => {
      runs.abandonStale(STALE_RUN_MS);
    });
    scope.get('/api/runs', async (request) => {
      const filter = parseListQuery(request.query as Record<string, string | string[] | undefined>);
      const page = listPage(runs, filter);
      // A misspelt workflow (?workflow=nightyl) listed nothing, as a workflow that never ran would,
      // where inlet runs --workflow nightyl names the workflows there are.
      if (filter.workflow !== undefined && page.runs.length === 0) {
        const known = options.workflowNames();
        if (!known.includes(filter.workflow))
          throw new InletError(
            'NOT_FOUND',
            `No workflow is named ${JSON.stringify(filter.workflow)}, configured or with runs; workflows: ${options.listWorkflows(known)}.`,
            { details: { field: 'workflow' } },
          );
      }
      return page;
    });
    scope.get('/api/workflows', async (request) => {
      refuseAnyParameter(
        request.query,
        'GET /api/workflows',
        'GET /api/runs?workflow= lists the runs of a workflow',
      );
      return workflowsBody(options.workflows());
    });
    scope.get('/api/runs/:id', async (request) => {
      refuseAnyParameter(
        request.query,
        'GET /api/runs/<id>',
        'GET /api/runs?workflow=&status= filters the list of runs',
      );
      const { id } = request.params as { id: string };
      // /api/runs/nightly (a workflow's name where its runs were meant) was "No run has id nightly",
      // leaving the reader to guess how ids look; inlet runs nightly says so.
      if (!/^\d+$/.test(id))
        throw new InletError(
          'NOT_FOUND',
          `${JSON.stringify(id)} is not a run id (a whole number); GET /api/runs?workflow=${encodeURIComponent(id)} lists the runs of a workflow, GET /api/runs all of them.`,
        );
      // Named as read, as inlet runs names it: /api/runs/0012 was "No run has id 0012".
      return runById(runs, id, 'GET /api/runs');
    });
  });
}
