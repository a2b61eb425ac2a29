import type { EventRecord } from '../events/index.ts';

/** What each column of the events table means, for the catalog (the events table has no manifest). */
export const EVENTS_DESCRIPTION =
  'Every event the collector accepted (page views, track events, identify calls…), one row each, deduplicated on event_id within each site.';

export const EVENT_COLUMN_DESCRIPTIONS: Record<keyof EventRecord, string> = {
  event_id: 'Client message id; with site, the key repeats are dropped on.',
  site: 'Site id the write key belongs to.',
  type: 'page, track, identify, screen, group or alias.',
  name: 'Event name for track events (login, search, heartbeat, your features…), screen name for screens.',
  ts: 'When it happened, client time corrected for clock skew.',
  received_at: 'When the collector received it.',
  anonymous_id: 'Browser or device id set by the tracker.',
  user_id: 'Signed-in user id, once identified.',
  session_id: 'Session id sent by the tracker, when it sent one.',
  url: 'Full page URL.',
  path: 'URL path without the query string.',
  referrer: 'Referring URL.',
  title: 'Page title.',
  utm_source: 'utm_source campaign parameter.',
  utm_medium: 'utm_medium campaign parameter.',
  utm_campaign: 'utm_campaign campaign parameter.',
  utm_term: 'utm_term campaign parameter.',
  utm_content: 'utm_content campaign parameter.',
  browser: 'Browser family from the user agent.',
  os: 'Operating system from the user agent.',
  device_type: 'desktop, mobile, tablet… from the user agent.',
  is_bot: 'True when the user agent is a known bot or crawler.',
  visitor_hash: 'Daily-salted hash of IP and user agent; never the raw IP.',
  properties:
    'Event properties (JSON): query and results for search, content_id, position, duration, interval, seconds for heartbeat, traits for identify.',
  context: 'Event context (JSON) as sent by the client library.',
  dt: 'UTC day of ts; the partition.',
};
