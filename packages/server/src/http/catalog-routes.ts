import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { createTokenCheck } from './query-routes.ts';
import { refuseAnyParameter } from './url-parameters.ts';

const ONE_TABLE = 'GET /api/catalog/<table> gives one';

/** GET /api/catalog, /api/catalog/:table and /api/lineage, behind the API token like queries. */
export function registerCatalogRoutes(app: FastifyInstance, options: { catalog: Catalog; apiToken: string }) {
  const { catalog } = options;
  app.register(async (scope) => {
    scope.addHook('onRequest', createTokenCheck(options.apiToken));
    // A parameter these routes do not take (?table=events, ?kind=mart) was passed over, and the
    // answer listed every table as if the filter had found them all.
    scope.get('/api/catalog', async (request) => {
      refuseAnyParameter(request.query, 'GET /api/catalog', `it lists every table, and ${ONE_TABLE}`);
      return { tables: await catalog.tables() };
    });
    scope.get('/api/catalog/:table', async (request) => {
      refuseAnyParameter(request.query, 'GET /api/catalog/<table>');
      return catalog.table((request.params as { table: string }).table);
    });
    scope.get('/api/lineage', async (request) => {
      refuseAnyParameter(
        request.query,
        'GET /api/lineage',
        `it draws the lineage of every table, and ${ONE_TABLE} table's upstream and downstream`,
      );
      return catalog.lineage();
    });
  });
}
