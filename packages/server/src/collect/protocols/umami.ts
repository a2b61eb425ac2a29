import { randomUUID } from 'node:crypto';
// Not config/index.ts, which intake workers need not load.
import { MAX_WRITE_KEY_LENGTH } from '../../config/write-key.ts';
import {
  fail,
  isObject,
  type Json,
  optionalCutString,
  optionalId,
  optionalJsonObject,
  optionalString,
} from '../fields.ts';
import type { ParsedIntake } from './types.ts';

// Umami's collection API, POST /api/send, as sent by its script:
// { type: "event" | "identify", payload: { website, hostname, language, referrer, screen: "1280x800",
//   title, url, name?, data?, tag?, id? (distinct id), vid? (visitor id) } }.
// Without a name an event is a page view. The website id is the write key, so a site can keep it.

const SCREEN = /^(\d{1,5})x(\d{1,5})$/;

/** Umami's script sends the full URL; older versions sent path and query, joined here with the hostname. */
function pageUrl(url: string | null, hostname: string | null): string | null {
  if (!url) return hostname ? `https://${hostname}/` : null;
  if (/^https?:\/\//.test(url)) return url;
  if (!hostname) return url;
  return `https://${hostname}${url.startsWith('/') ? '' : '/'}${url}`;
}

/** Parses an Umami /api/send body; the website id becomes the write key. */
export function parseUmami(body: unknown): ParsedIntake {
  if (!isObject(body)) fail('body', 'must be a JSON object such as {"type":"event","payload":{…}}');
  const kind = body.type ?? 'event';
  if (kind !== 'event' && kind !== 'identify') fail('type', 'must be "event" or "identify"');
  if (!isObject(body.payload)) fail('payload', 'must be a JSON object');
  const payload = body.payload;
  const website = optionalString(payload.website, 'payload.website', MAX_WRITE_KEY_LENGTH);
  if (!website) fail('payload.website', 'is required; use the site write key as the website id');
  const hostname = optionalString(payload.hostname, 'payload.hostname', 500);
  const name = optionalId(payload.name, 'payload.name', 200);
  const data = optionalJsonObject(payload.data, 'payload.data');

  const context: Json = { protocol: 'umami' };
  if (hostname) context.hostname = hostname;
  const screen = SCREEN.exec(optionalString(payload.screen, 'payload.screen', 20) ?? '');
  if (screen) {
    context.sw = Number(screen[1]);
    context.sh = Number(screen[2]);
  }
  const language = optionalString(payload.language, 'payload.language', 50);
  if (language) context.lang = language;
  const tag = optionalString(payload.tag, 'payload.tag', 200);
  if (tag) context.tag = tag;

  return {
    writeKey: website,
    events: [
      {
        // Umami sends no event id and does not retry, so every request is a distinct event.
        eventId: randomUUID(),
        type: kind === 'identify' ? 'identify' : name ? 'track' : 'page',
        name: kind === 'identify' ? null : name,
        timestamp: undefined,
        sentAt: undefined,
        anonymousId: optionalId(payload.vid, 'payload.vid', 200),
        userId: optionalId(payload.id, 'payload.id', 200),
        sessionId: null,
        url: pageUrl(optionalCutString(payload.url, 'payload.url'), hostname),
        referrer: optionalCutString(payload.referrer, 'payload.referrer'),
        title: optionalCutString(payload.title, 'payload.title', 2000),
        campaign: {},
        properties: data,
        context,
        userAgent: undefined,
        ip: undefined,
      },
    ],
    eventField: () => 'payload',
  };
}
