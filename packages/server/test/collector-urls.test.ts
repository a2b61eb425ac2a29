// How a page's location becomes the url, path, referrer and utm_* columns, over HTTP as each protocol
// sends it: a URL or referrer written without its scheme, and a campaign given both in the URL and in Segment's context.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, queryApi, segmentMessage, startTestInlet, WRITE_KEY } from './helpers.ts';

let inlet: Awaited<ReturnType<typeof startTestInlet>>;

beforeAll(async () => {
  inlet = await startTestInlet({ limits: { per_ip_per_second: 0, per_write_key_per_second: 0 } });
});
afterAll(async () => inlet.cleanup());

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${inlet.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    body: JSON.stringify(body),
  });
  expect(response.ok).toBe(true);
};

const LOCATION = 'url, path, utm_source, utm_medium, utm_campaign, utm_term, utm_content';
const located = (prefix: string, columns = LOCATION) =>
  queryApi(inlet.url, `SELECT event_id, ${columns} FROM events WHERE event_id LIKE '${prefix}%' ORDER BY 1`);

describe('a page URL without a scheme', () => {
  it('is read as a host and path when its first segment is a host name, and stays a path after a /', async () => {
    await post('/v1/batch', {
      batch: [
        // Segment's context.page, as a server or a hand-made client fills it in.
        segmentMessage('noscheme-1', {
          context: { page: { url: 'docs.example.com/guide?utm_source=x' } },
        }),
        segmentMessage('noscheme-2', {
          type: 'page',
          properties: { url: 'www.example.com:8080/shop/cart#top' },
        }),
        segmentMessage('noscheme-3', { type: 'page', properties: { url: '/pricing?utm_medium=email' } }),
      ],
    });
    // inlet's tracker format, and the pixel.
    await post('/collect', {
      k: WRITE_KEY,
      e: [{ id: 'noscheme-4', t: 'page', a: 'anon-1', url: 'www.site.com/path' }],
    });
    const pixel = await fetch(
      `${inlet.url}/p.gif?k=${WRITE_KEY}&id=noscheme-5&a=anon-1&url=${encodeURIComponent('news.example.org?utm_campaign=nov')}`,
    );
    expect(pixel.status).toBe(200);
    const none = {
      utm_source: null,
      utm_medium: null,
      utm_campaign: null,
      utm_term: null,
      utm_content: null,
    };
    expect(await located('noscheme-')).toEqual([
      {
        event_id: 'noscheme-1',
        ...none,
        url: 'https://docs.example.com/guide?utm_source=x',
        path: '/guide',
        utm_source: 'x',
      },
      {
        event_id: 'noscheme-2',
        ...none,
        url: 'https://www.example.com:8080/shop/cart#top',
        path: '/shop/cart',
      },
      {
        event_id: 'noscheme-3',
        ...none,
        url: '/pricing?utm_medium=email',
        path: '/pricing',
        utm_medium: 'email',
      },
      { event_id: 'noscheme-4', ...none, url: 'https://www.site.com/path', path: '/path' },
      {
        event_id: 'noscheme-5',
        ...none,
        url: 'https://news.example.org?utm_campaign=nov',
        path: '/',
        utm_campaign: 'nov',
      },
    ]);
  });

  it('keeps a value with a scheme, or one whose first segment is no host name, as it came', async () => {
    await post('/collect', {
      k: WRITE_KEY,
      e: [
        { id: 'kept-1', t: 'page', a: 'anon-1', url: 'http://docs.example.com/a' },
        { id: 'kept-2', t: 'page', a: 'anon-1', url: 'guide/start?utm_term=b' },
        { id: 'kept-3', t: 'page', a: 'anon-1', url: 'android-app://com.example/home' },
        { id: 'kept-4', t: 'page', a: 'anon-1', url: 'report.pdf?v=2' },
      ],
    });
    expect(await located('kept-', 'url, path, utm_term')).toEqual([
      { event_id: 'kept-1', url: 'http://docs.example.com/a', path: '/a', utm_term: null },
      { event_id: 'kept-2', url: 'guide/start?utm_term=b', path: '/guide/start', utm_term: 'b' },
      { event_id: 'kept-3', url: 'android-app://com.example/home', path: '/home', utm_term: null },
      { event_id: 'kept-4', url: 'report.pdf?v=2', path: '/report.pdf', utm_term: null },
    ]);
  });
});

describe('a referrer without a scheme', () => {
  it('is read as a host and path as a page URL is, so its host is the host', async () => {
    // Stored as it came, www.google.com/ was no URL, and entry_paths took its whole text for the source.
    await post('/v1/batch', {
      batch: [segmentMessage('ref-1', { context: { page: { url: '/a', referrer: 'www.google.com/' } } })],
    });
    await post('/collect', {
      k: WRITE_KEY,
      e: [
        { id: 'ref-2', t: 'page', a: 'anon-1', url: '/a', ref: 'news.ycombinator.com/item?id=1' },
        { id: 'ref-3', t: 'page', a: 'anon-1', url: '/a', ref: 'http://docs.example.com/a' },
        { id: 'ref-4', t: 'page', a: 'anon-1', url: '/a', ref: 'index.html' },
      ],
    });
    const pixel = await fetch(
      `${inlet.url}/p.gif?k=${WRITE_KEY}&id=ref-5&a=anon-1&url=%2Fa&ref=${encodeURIComponent('www.bing.com:443/search?q=x')}`,
    );
    expect(pixel.status).toBe(200);
    expect(await located('ref-', 'referrer')).toEqual([
      { event_id: 'ref-1', referrer: 'https://www.google.com/' },
      { event_id: 'ref-2', referrer: 'https://news.ycombinator.com/item?id=1' },
      { event_id: 'ref-3', referrer: 'http://docs.example.com/a' },
      { event_id: 'ref-4', referrer: 'index.html' },
      { event_id: 'ref-5', referrer: 'https://www.bing.com:443/search?q=x' },
    ]);
  });
});

describe("a campaign in the URL and in Segment's context.campaign", () => {
  it('takes every utm_* column from context.campaign when it names any, else from the URL', async () => {
    const url = 'https://docs.example.com/?utm_source=url_src&utm_medium=url_med&utm_term=url_term';
    const message = (id: string, campaign?: object) =>
      segmentMessage(id, { context: { page: { url }, ...(campaign && { campaign }) } });
    await post('/v1/batch', {
      batch: [
        message('camp-1', { name: 'spring', source: 'newsletter' }),
        message('camp-2', {}),
        message('camp-3', { source: '', id: 'x' }),
        message('camp-4'),
        segmentMessage('camp-5', {
          context: {
            page: { url: 'https://docs.example.com/' },
            campaign: { medium: 'cpc', content: 'banner' },
          },
        }),
      ],
    });
    const utm = (
      source: string | null,
      medium: string | null,
      campaign: string | null,
      term: string | null,
    ) => ({
      utm_source: source,
      utm_medium: medium,
      utm_campaign: campaign,
      utm_term: term,
    });
    const fromUrl = utm('url_src', 'url_med', null, 'url_term');
    expect(await located('camp-', 'utm_source, utm_medium, utm_campaign, utm_term, utm_content')).toEqual([
      { event_id: 'camp-1', ...utm('newsletter', null, 'spring', null), utm_content: null },
      { event_id: 'camp-2', ...fromUrl, utm_content: null },
      { event_id: 'camp-3', ...fromUrl, utm_content: null },
      { event_id: 'camp-4', ...fromUrl, utm_content: null },
      { event_id: 'camp-5', ...utm(null, 'cpc', null, null), utm_content: 'banner' },
    ]);
  });
});
