import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, segmentMessage, startTestInlet, WRITE_KEY } from './helpers.ts';

// The pixel as e-mails and pages without JavaScript use it: an <img> in Chromium. A refused view
// must still draw as the 1×1 pixel (a JSON body drew a broken-image icon in the mail), while its
// status and X-Inlet-Error say why it was refused.

type TestInlet = Awaited<ReturnType<typeof startTestInlet>>;
let browser: Browser;
let inlet: TestInlet;
let full: TestInlet;

beforeAll(async () => {
  inlet = await startTestInlet({ limits: { per_ip_per_second: 0, per_write_key_per_second: 0 } });
  full = await startTestInlet({ wal: { max_bytes: 4096 }, loader: { interval_ms: 3_600_000 } });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await inlet?.cleanup();
  await full?.cleanup();
});

/** How Chromium drew each image: its natural size once loaded, or "broken" when it fired error. */
async function render(urls: string[]): Promise<string[]> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(
      `Promise.all(${JSON.stringify(urls)}.map((src) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(img.naturalWidth + 'x' + img.naturalHeight);
        img.onerror = () => resolve('broken');
        img.src = src;
      })))`,
    );
  } finally {
    await page.close();
  }
}

describe('the pixel in a browser', () => {
  it('draws as a 1×1 image when the view is refused, with the status and reason in headers', async () => {
    // Fill the WAL, so its pixel is refused with 503 WAL_FULL.
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${full.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage(`fill-${i}`)] }),
      });
      if (response.status === 503) break;
    }
    const cases: Array<[string, number, string]> = [
      [`${inlet.url}/p.gif?k=${WRITE_KEY}&n=email_open&u=42&id=browser-ok`, 200, ''],
      [`${inlet.url}/p.gif?n=email_open&u=42`, 401, 'MISSING_WRITE_KEY'],
      [`${inlet.url}/p.gif?k=wk_unknown_0000&n=email_open&u=42`, 401, 'UNKNOWN_WRITE_KEY'],
      [`${inlet.url}/p.gif?k=${WRITE_KEY}&t=purchase&u=42`, 400, 'INVALID_FIELD'],
      [`${inlet.url}/p.gif?k=${WRITE_KEY}&n=open&u=42&p=%7Bnot-json`, 400, 'INVALID_FIELD'],
      [`${full.url}/p.gif?k=${WRITE_KEY}&n=email_open&u=42`, 503, 'WAL_FULL'],
    ];
    for (const [url, status, code] of cases) {
      const response = await fetch(url);
      expect([url, response.status]).toEqual([url, status]);
      expect(response.headers.get('content-type')).toBe('image/gif');
      expect(response.headers.get('x-inlet-error')).toBe(code || null);
      expect(
        Buffer.from(await response.arrayBuffer())
          .subarray(0, 6)
          .toString(),
      ).toBe('GIF89a');
    }
    expect(await render(cases.map(([url]) => url))).toEqual(cases.map(() => '1x1'));
  });

  it('draws as a 1×1 image when its URL is too long to read, with HEADERS_TOO_LARGE in headers', async () => {
    // Node's parser refuses a request line past 16 KB before any route: it was answered with JSON,
    // which the mail drew as a broken image.
    const properties = encodeURIComponent(JSON.stringify({ note: 'n'.repeat(20_000) }));
    const url = `${inlet.url}/p.gif?k=${WRITE_KEY}&n=email_open&u=42&p=${properties}`;
    const response = await fetch(url);
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(response.headers.get('x-inlet-error')).toBe('HEADERS_TOO_LARGE');
    expect(await render([url])).toEqual(['1x1']);
  });
});
