import type { Json } from '../fields.ts';
import type { UrlParts } from './url.ts';

type Utm = Omit<UrlParts, 'path'>;

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

const hasKeys = (value: Json): boolean => {
  for (const _ in value) return true;
  return false;
};

/**
 * The utm_* of Segment's context.campaign (name, source, medium, term, content), or undefined when it
 * names none. When it names any, all of an event's utm_* come from it, none from the page's URL:
 * taken value by value, one event could hold a source from the URL and a campaign from the context,
 * a pairing neither sent. analytics.js fills it from the page's query, so the two agree in a browser;
 * a server that sets it says which campaign the event belongs to.
 */
export function campaignUtm(campaign: Json): Utm | undefined {
  // Only Segment's messages have one: the other protocols' events pass here with an empty object.
  if (!hasKeys(campaign)) return undefined;
  const utm: Utm = {
    utm_source: text(campaign.source),
    utm_medium: text(campaign.medium),
    utm_campaign: text(campaign.name) ?? text(campaign.campaign),
    utm_term: text(campaign.term),
    utm_content: text(campaign.content),
  };
  for (const value of Object.values(utm)) if (value !== null) return utm;
  return undefined;
}
