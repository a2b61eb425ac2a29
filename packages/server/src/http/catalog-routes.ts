import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { createTokenCheck } from './query-routes.ts';

/** GET /api/catalog, /api/catalog/:table and /api/lineage, behind the API token like queries. */
export function registerCatalogRoutes(app: FastifyInstance, options: { catalog: Catalog; apiToken: string }) {
  const { catalog } = options;
  app.register(async (scope) => {
    scope.addHook('onRequest', createTokenCheck(options.apiToken));
    scope.get('/api/catalog', async () => ({ tables: await catalog.tables() }));
    scope.get('/api/catalog/:table', async (request) =>
      catalog.table((request.params as { table: string }).table),
    );
    scope.get('/api/lineage', async () => catalog.lineage());
  });
}
