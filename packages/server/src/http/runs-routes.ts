import type { FastifyInstance } from 'fastify';
import { InletError } from '../errors/index.ts';
import { RUN_STATUSES, type RunHistory, STALE_RUN_MS } from '../scheduler/index.ts';
import { createTokenCheck } from './query-routes.ts';

const STATUSES: readonly string[] = RUN_STATUSES;

function parseListQuery(query: Record<string, string | undefined>) {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InletError('INVALID_FIELD', 'limit: must be a whole number from 1 to 1000', {
      details: { field: 'limit' },
    });
  if (query.status !== undefined && !STATUSES.includes(query.status))
    throw new InletError('INVALID_FIELD', `status: must be one of ${STATUSES.join(', ')}`, {
      details: { field: 'status' },
    });
  return { limit, workflow: query.workflow, status: query.status };
}

/** GET /api/runs (newest first; ?workflow=&status=&limit=) and /api/runs/:id with each step's log. */
export function registerRunsRoutes(app: FastifyInstance, options: { runs: RunHistory; apiToken: string }) {
  const { runs } = options;
  app.register(async (scope) => {
    scope.addHook('onRequest', createTokenCheck(options.apiToken));
    // A run whose process died shows as such in a process without a scheduler (--role web) too.
    scope.addHook('preHandler', async () => {
      runs.abandonStale(STALE_RUN_MS);
    });
    scope.get('/api/runs', async (request) => ({
      runs: runs.list(parseListQuery(request.query as Record<string, string | undefined>)),
    }));
    scope.get('/api/runs/:id', async (request) => {
      const { id } = request.params as { id: string };
      const run = /^\d+$/.test(id) ? runs.get(Number(id)) : undefined;
      if (!run) throw new InletError('NOT_FOUND', `No run has id ${id}; GET /api/runs lists them.`);
      return run;
    });
  });
}
