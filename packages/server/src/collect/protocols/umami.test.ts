import { describe, expect, it } from 'vitest';
import { expectInvalidField, parseOne } from '../../../test/intake-parsers.ts';
import { parseUmami } from './umami.ts';

const WEBSITE = '4fb7fa4c-5b46-438d-94b3-3a8fb9bc2e8b';

const only = (body: unknown) => parseOne(parseUmami, body);

const payload = (extra: Record<string, unknown> = {}) => ({
  website: WEBSITE,
  hostname: 'docs.example.com',
  language: 'ja-JP',
  referrer: 'https://search.example.org/',
  screen: '1920x1080',
  title: 'Guide',
  url: 'https://docs.example.com/guide?utm_medium=email',
  ...extra,
});

const invalidField = (body: unknown, field: string) => expectInvalidField(parseUmami, body, field);

describe('parseUmami', () => {
  it('maps an event without a name to a page view, with the website id as the write key', () => {
    const { writeKey, event } = only({ type: 'event', payload: payload() });
    expect(writeKey).toBe(WEBSITE);
    expect(event).toMatchObject({
      type: 'page',
      name: null,
      url: 'https://docs.example.com/guide?utm_medium=email',
      referrer: 'https://search.example.org/',
      title: 'Guide',
      anonymousId: null,
      userId: null,
      properties: {},
      context: { protocol: 'umami', hostname: 'docs.example.com', sw: 1920, sh: 1080, lang: 'ja-JP' },
    });
  });

  it("cuts a long title, url and referrer to their columns' length, where Umami's tracker lost the view", () => {
    const url = `https://docs.example.com/app?state=${'s'.repeat(9000)}`;
    const { event } = only({
      type: 'event',
      payload: payload({ title: 't'.repeat(2500), url, referrer: url }),
    });
    expect([event.title, event.url, event.referrer]).toEqual([
      't'.repeat(2000),
      url.slice(0, 8192),
      url.slice(0, 8192),
    ]);
  });

  it('maps a named event with data to a track event', () => {
    const { event } = only({
      type: 'event',
      payload: payload({ name: 'signup', data: { plan: 'pro' }, tag: 'variant-b' }),
    });
    expect(event).toMatchObject({
      type: 'track',
      name: 'signup',
      properties: { plan: 'pro' },
      context: { tag: 'variant-b' },
    });
  });

  it('joins hostname and path from older scripts into a full URL', () => {
    expect(only({ type: 'event', payload: payload({ url: '/pricing?x=1' }) }).event?.url).toBe(
      'https://docs.example.com/pricing?x=1',
    );
  });

  it('maps identify to an identify event with the distinct id as user id and data as traits', () => {
    const { event } = only({
      type: 'identify',
      payload: payload({ id: 'user-42', vid: 'visitor-1', data: { company: 'Acme' } }),
    });
    expect(event).toMatchObject({
      type: 'identify',
      name: null,
      userId: 'user-42',
      anonymousId: 'visitor-1',
      properties: { company: 'Acme' },
    });
  });

  it('gives each event its own id, since Umami sends none', () => {
    const body = { type: 'event', payload: payload() };
    expect(only(body).event?.eventId).not.toBe(only(body).event?.eventId);
  });

  it('ignores a screen size it cannot read', () => {
    expect(only({ type: 'event', payload: payload({ screen: 'big' }) }).event?.context).toEqual({
      protocol: 'umami',
      hostname: 'docs.example.com',
      lang: 'ja-JP',
    });
  });

  it('reads a blank visitor id, user id or event name as none, as an empty one is', () => {
    // Stored, "  " was a user, or an event named blank, where "" is none.
    const { event } = only({ type: 'event', payload: payload({ vid: ' ', id: '\t', name: '  ' }) });
    expect([event.anonymousId, event.userId, event.type, event.name]).toEqual([null, null, 'page', null]);
  });

  it('refuses bodies it cannot map, naming the field', () => {
    invalidField('hello', 'body');
    invalidField({ type: 'pageview', payload: payload() }, 'type');
    invalidField({ type: 'event' }, 'payload');
    invalidField({ type: 'event', payload: payload({ website: '' }) }, 'payload.website');
    invalidField({ type: 'event', payload: payload({ data: 'x' }) }, 'payload.data');
    invalidField({ type: 'event', payload: payload({ name: 'x'.repeat(201) }) }, 'payload.name');
  });
});
