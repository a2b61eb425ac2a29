import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createSiteKeys, type Site } from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError, isInletError } from '../errors/index.ts';
import { basicUser } from './basic-credentials.ts';
import { preflightHeaders } from './cors.ts';
import { type Script, script, sendScript, sendScriptRefusal } from './script-reply.ts';

// What the browser SDKs of Segment and RudderStack fetch before they send anything, so that pointing
// them at inlet is all they need: their settings (Segment's cdnURL, RudderStack's configUrl), which
// name no destination but the collector and turn off the SDKs' own telemetry and error reports to
// their vendors, so a page's events go nowhere else; and for Segment's snippet, analytics.js itself,
// which it would otherwise load from Segment's CDN.

/** The write key of a settings request: the path's, the query's writeKey, or the Basic user name. */
function writeKeyOf(request: FastifyRequest): string | undefined {
  // ?writeKey=a&writeKey=b is parsed to a list, which was answered "No write key": its first, as the
  // beacon and the pixel take theirs.
  const query = (request.query as { writeKey?: unknown }).writeKey;
  const writeKey = Array.isArray(query) ? query[0] : query;
  if (typeof writeKey === 'string' && writeKey) return writeKey;
  return basicUser(request.headers.authorization);
}

/**
 * Segment's source settings (GET /v1/projects/<write key>/settings on its CDN): the Segment.io
 * destination is this collector, at server.public_url, else at the host and scheme the SDK asked
 * for (behind a proxy with server.trust_proxy, the ones it forwards).
 */
function segmentSettings(site: Site, request: FastifyRequest, publicUrl: string | undefined) {
  const [protocol, address] = publicUrl
    ? (publicUrl.split('://') as [string, string])
    : [request.protocol, request.host];
  return {
    integrations: {
      'Segment.io': { apiKey: site.write_key, apiHost: `${address}/v1`, protocol },
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

/** Segment's analytics.js as its snippet loads it, and the chunks it loads later, from the npm package. */
function createAnalyticsJs() {
  let dir: string | undefined;
  const files = new Map<string, Script>();
  return (name: string): Script => {
    dir ??= dirname(createRequire(import.meta.url).resolve('@segment/analytics-next/dist/umd/standalone.js'));
    let code = files.get(name);
    if (!code) {
      code = script(readFileSync(join(dir, name)));
      files.set(name, code);
    }
    return code;
  };
}

/** The names of analytics.js's chunks: webpack's name, "bundle" and a content hash. */
const CHUNK = /^[\w-]+\.bundle\.[0-9a-f]{8,}\.js$/;

export function registerSdkRoutes(app: FastifyInstance, config: InletConfig) {
  const siteOfKey = createSiteKeys(
    config,
    "in the path (Segment's /v1/projects/<write key>/settings) or as writeKey in the query",
  );
  const answer =
    (settings: (site: Site, request: FastifyRequest, publicUrl: string | undefined) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      // Any page may load settings, and a browser shows it an error's message only with this header.
      reply.header('Access-Control-Allow-Origin', '*');
      const { writeKey } = request.params as { writeKey?: string };
      const site = siteOfKey(writeKey ?? writeKeyOf(request));
      // Segment's settings name the host asked for: a cache in front must keep one copy per host.
      return reply
        .header('Cache-Control', 'public, max-age=300')
        .header('Vary', 'Host, X-Forwarded-Host, X-Forwarded-Proto')
        .send(settings(site, request, config.server.public_url));
    };

  app.get('/v1/projects/:writeKey/settings', answer(segmentSettings));

  // Segment's snippet: <script src="https://<cdn>/analytics.js/v1/<write key>/analytics.min.js">,
  // which then loads chunks from <cdn>/analytics-next/bundles/ (its _cdn).
  const analyticsJs = createAnalyticsJs();
  app.get<{ Params: { writeKey: string } }>(
    '/analytics.js/v1/:writeKey/analytics.min.js',
    async (request, reply) => {
      const { writeKey } = request.params;
      try {
        siteOfKey(writeKey);
      } catch (error) {
        if (!isInletError(error)) throw error;
        const said = `inlet did not send analytics.js for the write key ${JSON.stringify(writeKey)} in this page's snippet, so the page sends no events: ${error.message}`;
        return sendScriptRefusal(request, reply, error, said);
      }
      return sendScript(request, reply, analyticsJs('standalone.js'), 'public, max-age=300');
    },
  );
  app.get<{ Params: { file: string } }>('/analytics-next/bundles/:file', async (request, reply) => {
    const { file } = request.params;
    if (!CHUNK.test(file)) throw new InletError('NOT_FOUND', `analytics.js has no chunk ${file}.`);
    let code: Script;
    try {
      code = analyticsJs(file);
    } catch {
      throw new InletError('NOT_FOUND', `analytics.js has no chunk ${file}.`);
    }
    // Chunks are named by their content: a new analytics.js names new ones.
    return sendScript(request, reply, code, 'public, max-age=31536000, immutable');
  });
  // RudderStack asks for /sourceConfig/, whose slash is dropped before routing (app.ts).
  app.get('/sourceConfig', answer(rudderStackSourceConfig));
  // RudderStack's SDK sends its write key in an Authorization header, which needs a preflight.
  app.options('/sourceConfig', async (request, reply) =>
    reply
      .code(204)
      .headers({
        ...preflightHeaders(request.raw, 'GET, HEAD, OPTIONS'),
        'Access-Control-Allow-Origin': '*',
      })
      .send(),
  );
}
