import { createHash } from 'node:crypto';
import type { EventRecord } from '../../events/index.ts';
import type { IncomingEvent, RequestMeta } from '../incoming.ts';
import { splitUrl } from './url.ts';
import { createUserAgentParser } from './user-agent.ts';
import { createVisitorHasher } from './visitor-hash.ts';

export { splitUrl } from './url.ts';
export { createUserAgentParser } from './user-agent.ts';
export { createVisitorHasher } from './visitor-hash.ts';

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Builds enrich(): received_at, skew-corrected ts, user agent and bot flags, visitor hash, UTM split. */
export function createEnricher(options: { saltDir: string; now?: () => number }) {
  const parseUserAgent = createUserAgentParser();
  const visitorHash = createVisitorHasher({ dir: options.saltDir, now: options.now });

  return (site: string, event: IncomingEvent, meta: RequestMeta): EventRecord => {
    let ts = event.timestamp ?? meta.receivedAt;
    if (event.timestamp !== undefined && event.sentAt !== undefined) ts += meta.receivedAt - event.sentAt;
    const userAgent = event.userAgent ?? meta.userAgent;
    const ip = event.ip ?? meta.ip;
    const ua = parseUserAgent(userAgent);
    const url = splitUrl(event.url);
    const { ip: _dropped, ...context } = event.context;
    const eventId =
      event.eventId ??
      `h-${createHash('sha256')
        .update(
          `${site}\0${JSON.stringify([event.type, event.name, event.timestamp, event.anonymousId, event.userId, event.properties])}`,
        )
        .digest('hex')
        .slice(0, 32)}`;
    const tsIso = new Date(ts).toISOString();
    return {
      event_id: eventId,
      site,
      type: event.type,
      name: event.name,
      ts: tsIso,
      received_at: new Date(meta.receivedAt).toISOString(),
      anonymous_id: event.anonymousId,
      user_id: event.userId,
      session_id: event.sessionId,
      url: event.url,
      path: url.path,
      referrer: event.referrer,
      title: event.title,
      utm_source: url.utm_source ?? text(event.campaign.source),
      utm_medium: url.utm_medium ?? text(event.campaign.medium),
      utm_campaign: url.utm_campaign ?? text(event.campaign.name) ?? text(event.campaign.campaign),
      utm_term: url.utm_term ?? text(event.campaign.term),
      utm_content: url.utm_content ?? text(event.campaign.content),
      browser: ua.browser,
      os: ua.os,
      device_type: ua.device_type,
      is_bot: ua.is_bot,
      visitor_hash: visitorHash(site, ip, userAgent),
      properties: event.properties,
      context,
      dt: tsIso.slice(0, 10),
    };
  };
}

export type Enricher = ReturnType<typeof createEnricher>;
