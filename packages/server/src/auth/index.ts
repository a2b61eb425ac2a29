/**
 * @module auth: the admin API token, from INLET_API_TOKEN or generated into the data directory, and
 * the record that keeps every process serving the API on one data directory on the same token.
 */
export { type ApiServer, joinApiServers } from './api-servers.ts';
export { type ApiToken, resolveApiToken } from './api-token.ts';
export { type ApiTokenClaim, claimApiToken } from './claim-api-token.ts';
