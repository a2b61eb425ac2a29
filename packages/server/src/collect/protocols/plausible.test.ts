import { describe, expect, it } from 'vitest';
import { expectInvalidField, parseOne } from '../../../test/intake-parsers.ts';
import { parsePlausible } from './plausible.ts';

const only = (body: unknown) => parseOne(parsePlausible, body);

const invalidField = (body: unknown, field: string) => expectInvalidField(parsePlausible, body, field);

describe('parsePlausible', () => {
  it('maps a pageview from the Plausible script to a page event, with the domain in context', () => {
    const { writeKey, event } = only({
      n: 'pageview',
      u: 'https://www.docs.example.com/guide?utm_source=news',
      d: 'docs.example.com',
      r: 'https://search.example.org/',
    });
    expect(writeKey).toBeUndefined();
    expect(event).toMatchObject({
      type: 'page',
      name: null,
      url: 'https://www.docs.example.com/guide?utm_source=news',
      referrer: 'https://search.example.org/',
      anonymousId: null,
      userId: null,
      properties: {},
      context: { protocol: 'plausible', domain: 'docs.example.com' },
    });
  });

  it("cuts a long url and referrer to their columns' length, where Plausible's script lost the view", () => {
    const url = `https://docs.example.com/app?state=${'s'.repeat(9000)}`;
    const { event } = only({ n: 'pageview', u: url, d: 'docs.example.com', r: url });
    expect([event.url, event.referrer]).toEqual([url.slice(0, 8192), url.slice(0, 2000)]);
  });

  it('maps a custom event with props given as a JSON string, as older scripts send them', () => {
    const { event } = only({
      n: 'Signup',
      u: 'https://app.example.com/pricing',
      d: 'app.example.com',
      p: '{"plan":"pro","seats":3}',
    });
    expect(event).toMatchObject({ type: 'track', name: 'Signup', properties: { plan: 'pro', seats: 3 } });
  });

  it('keeps a prop named __proto__ as a prop', () => {
    const { event } = only({ n: 'x', u: 'https://a.example/', d: 'a.example', p: '{"__proto__":"p","k":1}' });
    expect(JSON.stringify(event.properties)).toBe('{"__proto__":"p","k":1}');
  });

  it('accepts the long field names of the documented Events API', () => {
    const { event } = only({
      name: 'Download',
      url: 'https://example.com/files',
      domain: 'example.com',
      referrer: 'https://ref.example.org/',
      props: { file: 'report.pdf' },
      revenue: { amount: '9.50', currency: 'EUR' },
    });
    expect(event).toMatchObject({
      type: 'track',
      name: 'Download',
      referrer: 'https://ref.example.org/',
      properties: { file: 'report.pdf', revenue: { amount: '9.50', currency: 'EUR' } },
    });
  });

  it('drops prop values Plausible does not keep: empty, null, objects and lists', () => {
    const { event } = only({
      n: 'x',
      u: 'https://example.com/',
      d: 'example.com',
      p: { ok: 'yes', n: 1, flag: true, empty: '', none: null, list: [1], map: { a: 1 } },
    });
    expect(event?.properties).toEqual({ ok: 'yes', n: 1, flag: true });
  });

  it('keeps hash mode and non-interactive flags, and every domain of a roll-up', () => {
    const { event } = only({
      n: 'pageview',
      u: 'https://example.com/#/settings',
      d: 'www.example.com, rollup.example.com',
      h: 1,
      i: false,
    });
    expect(event?.context).toEqual({
      protocol: 'plausible',
      domain: 'example.com',
      domains: ['example.com', 'rollup.example.com'],
      hash_routing: true,
      interactive: false,
    });
  });

  it('reads the domain in lower case, as inlet.yaml must list it', () => {
    // data-domain="Docs.Example.com" names the same host; inlet.yaml refuses capitals in domains.
    expect(
      only({ n: 'pageview', u: 'https://docs.example.com/', d: 'WWW.Docs.Example.com' }).event?.context,
    ).toMatchObject({ domain: 'docs.example.com' });
  });

  it('takes the domain from the URL when d is absent', () => {
    expect(only({ n: 'pageview', u: 'https://www.shop.example.com/' }).event?.context.domain).toBe(
      'shop.example.com',
    );
  });

  it('gives each event its own id, since identical page views from two visitors are two events', () => {
    const body = { n: 'pageview', u: 'https://example.com/', d: 'example.com' };
    expect(only(body).event?.eventId).not.toBe(only(body).event?.eventId);
  });

  it('carries scroll depth and engaged time of engagement events', () => {
    const { event } = only({
      n: 'engagement',
      u: 'https://example.com/',
      d: 'example.com',
      sd: 80,
      e: 12000,
    });
    expect(event).toMatchObject({ type: 'track', properties: { scroll_depth: 80, engagement_ms: 12000 } });
  });

  it('refuses a field that is no string, naming it as sent, where "d": 5 was looked up as the domain 5', () => {
    const page = { n: 'pageview', u: 'https://example.com/', d: 'example.com' };
    // Each was read as its digits: "No site has domain 5", an event named "5", a referrer "5". The
    // domain's said "as listed in sites[].domains in inlet.yaml", whatever file --config named.
    const refusals = [
      [
        { ...page, d: 5 },
        'd',
        "d: must be a string (the site's domain, as listed in sites[].domains of the configuration), not a number",
      ],
      [
        { u: page.u, d: page.d, n: 5 },
        'n',
        'n: must be a string ("pageview" for a page view, or a custom event name), not a number',
      ],
      [{ ...page, u: 5 }, 'u', "u: must be a string (the page's full URL), not a number"],
      [{ ...page, r: true }, 'r', "r: must be a string (the referring page's URL, or null), not a boolean"],
      [{ ...page, p: 5 }, 'p', 'p: must be a JSON object or a string holding one'],
      [{ ...page, props: [1] }, 'props', 'props: must be a JSON object or a string holding one'],
      [
        { n: 'pageview', url: page.u, domain: ['example.com'] },
        'domain',
        "domain: must be a string (the site's domain, as listed in sites[].domains of the configuration), not an array",
      ],
    ] as const;
    for (const [body, field, message] of refusals) {
      expect(() => parsePlausible(body), message).toThrow(message);
      invalidField(body, field);
    }
    expect(() => parsePlausible({ ...page, d: ' , ' })).toThrow(
      'd: is empty; send the site domain registered in sites[].domains of the configuration',
    );
    // The script's referrer when there is none.
    expect(only({ ...page, r: null }).event.referrer).toBeNull();
  });

  it('refuses bodies it cannot map, naming the field', () => {
    invalidField([], 'body');
    invalidField({ u: 'https://example.com/', d: 'example.com' }, 'name');
    invalidField({ n: 'pageview', d: 'example.com' }, 'url');
    // An event named blank was stored, where an empty name is refused.
    expect(() => parsePlausible({ n: '   ', u: 'https://example.com/', d: 'example.com' })).toThrow(
      'n: is required; "pageview" for a page view, or a custom event name (a value of only white space is none)',
    );

    invalidField({ n: 'pageview', u: '/relative', d: 'example.com' }, 'u');
    invalidField({ n: 'pageview', u: 'data:text/html,hi', d: 'example.com' }, 'u');
    invalidField({ n: 'pageview', u: 'https://example.com/', d: ' , ' }, 'd');
    invalidField({ n: 'x', u: 'https://example.com/', d: 'example.com', p: '{oops' }, 'p');
    invalidField({ n: 'x', u: 'https://example.com/', d: 'example.com', p: [1] }, 'p');
    invalidField({ n: 'x', u: 'https://example.com/', d: 'example.com', $: 'lots' }, '$');
    // 1e400 reads as Infinity, which would be stored as null.
    invalidField({ n: 'x', u: 'https://example.com/', d: 'example.com', p: '{"n":1e400}' }, 'p.n');
    invalidField(
      {
        n: 'x',
        u: 'https://example.com/',
        d: 'example.com',
        $: { amount: Number.POSITIVE_INFINITY, currency: 'EUR' },
      },
      '$.amount',
    );
  });
});
