import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { createTokenCheck } from './query-routes.ts';
import { refuseAnyParameter } from './url-parameters.ts';

const ONE_TABLE = 'GET /api/catalog/<table> gives one table, with its upstream and downstream';

/** GET /api/catalog, /api/catalog/:table and /api/lineage, behind the API token like queries. */
export function registerCatalogRoutes(app: FastifyInstance, options: { catalog: Catalog; apiToken: string }) {
  const { catalog } = options;
  app.register(async (scope) => {
    scope.addHook('onRequest', createTokenCheck(options.apiToken));
    // A parameter these routes do not take (?table=events, ?kind=mart) was passed over, and the
    // answer listed every table as if the filter had found them all.
    scope.get('/api/catalog', async (request) => {
      refuseAnyParameter(request.query, ONE_TABLE);
      return { tables: await catalog.tables() };
    });
    scope.get('/api/catalog/:table', async (request) => {
      refuseAnyParameter(request.query);
      return catalog.table((request.params as { table: string }).table);
    });
    scope.get('/api/lineage', async (request) => {
      refuseAnyParameter(request.query, ONE_TABLE);
      return catalog.lineage();
    });
  });
}
