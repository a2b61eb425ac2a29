import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createSiteKeys, type Site } from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { preflightHeaders } from './cors.ts';
import { basicUser } from './intake-handler.ts';

// The settings the browser SDKs of Segment and RudderStack fetch before they send anything, so that
// pointing their settings URL at inlet (Segment's cdnURL, RudderStack's configUrl) is all they need.
// The settings name no destination but the collector and turn off the SDKs' own telemetry and error
// reports to their vendors: with inlet, a page's events go nowhere else.

/** The write key of a settings request: the path's, the query's writeKey, or the Basic user name. */
function writeKeyOf(request: FastifyRequest): string | undefined {
  const { writeKey } = request.query as { writeKey?: unknown };
  if (typeof writeKey === 'string' && writeKey) return writeKey;
  return basicUser(request.headers.authorization);
}

/**
 * Segment's source settings (GET /v1/projects/<write key>/settings on its CDN): the Segment.io
 * destination is this collector, at the host and scheme the SDK asked for (behind a proxy with
 * server.trust_proxy, the ones it forwards).
 */
function segmentSettings(site: Site, request: FastifyRequest) {
  return {
    integrations: {
      'Segment.io': { apiKey: site.write_key, apiHost: `${request.host}/v1`, protocol: request.protocol },
    },
    metrics: { sampleRate: 0 },
    remotePlugins: [],
  };
}

/** RudderStack's source config (GET /sourceConfig/?writeKey=… on its control plane). */
function rudderStackSourceConfig(site: Site) {
  return {
    source: {
      id: site.id,
      name: site.id,
      writeKey: site.write_key,
      workspaceId: 'inlet',
      enabled: true,
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
  };
}

export function registerSdkSettingsRoutes(app: FastifyInstance, config: InletConfig) {
  const siteOfKey = createSiteKeys(
    config.sites,
    "in the path (Segment's /v1/projects/<write key>/settings) or as writeKey in the query",
  );
  const answer =
    (settings: (site: Site, request: FastifyRequest) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      // Any page may load settings, and a browser shows it an error's message only with this header.
      reply.header('Access-Control-Allow-Origin', '*');
      const { writeKey } = request.params as { writeKey?: string };
      const site = siteOfKey(writeKey ?? writeKeyOf(request));
      return reply.header('Cache-Control', 'public, max-age=300').send(settings(site, request));
    };

  app.get('/v1/projects/:writeKey/settings', answer(segmentSettings));
  for (const url of ['/sourceConfig', '/sourceConfig/']) {
    app.get(url, answer(rudderStackSourceConfig));
    // RudderStack's SDK sends its write key in an Authorization header, which needs a preflight.
    app.options(url, async (request, reply) =>
      reply
        .code(204)
        .headers({
          ...preflightHeaders(request.raw, 'GET, HEAD, OPTIONS'),
          'Access-Control-Allow-Origin': '*',
        })
        .send(),
    );
  }
}
