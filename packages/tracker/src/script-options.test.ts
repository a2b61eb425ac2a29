import { describe, expect, it, vi } from 'vitest';
import { readScriptOptions } from './script-options.ts';

const SRC = 'https://collect.example.com/inlet.js';

describe('readScriptOptions', () => {
  it('defaults the collector to the script origin, heartbeat to 15 s and page views to on', () => {
    expect(readScriptOptions({ writeKey: 'wk_1' }, SRC)).toEqual({
      writeKey: 'wk_1',
      api: 'https://collect.example.com',
      hashRouting: false,
      respectDnt: false,
      heartbeat: 15,
      autoPageview: true,
    });
  });

  it('reads every data-* option', () => {
    const options = readScriptOptions(
      {
        writeKey: 'wk_1',
        api: 'https://inlet.example.com/prefix',
        hashRouting: '',
        respectDnt: 'true',
        heartbeat: '30',
        autoPageview: 'false',
      },
      SRC,
    );
    expect(options).toEqual({
      writeKey: 'wk_1',
      api: 'https://inlet.example.com/prefix',
      hashRouting: true,
      respectDnt: true,
      heartbeat: 30,
      autoPageview: false,
    });
  });

  it('takes a data-api without its scheme as a host, in the page scheme, and keeps a path as it is', () => {
    // collect.example.com was fetched relative to the page, from the page's own server.
    const api = (value: string) => readScriptOptions({ writeKey: 'wk_1', api: value }, SRC)?.api;
    expect(api('collect.example.com')).toBe('//collect.example.com');
    expect(api('localhost:8080/inlet')).toBe('//localhost:8080/inlet');
    expect(api('//collect.example.com')).toBe('//collect.example.com');
    expect(api('/inlet')).toBe('/inlet');
    expect(api('HTTP://collect.example.com')).toBe('HTTP://collect.example.com');
    expect(api('')).toBe('https://collect.example.com');
  });

  it('reads a data-api with spaces around it as fetch does, not as a host', () => {
    const api = readScriptOptions({ writeKey: 'wk_1', api: ' https://collect.example.com ' }, SRC)?.api;
    expect(api).toBe('https://collect.example.com');
  });

  it.each(['off', 'false', '0', '-5'])('turns the page heartbeat off with data-heartbeat="%s"', (value) => {
    expect(readScriptOptions({ writeKey: 'wk_1', heartbeat: value }, SRC)?.heartbeat).toBe(0);
  });

  it('treats data-hash-routing="false" as off', () => {
    expect(readScriptOptions({ writeKey: 'wk_1', hashRouting: 'false' }, SRC)?.hashRouting).toBe(false);
  });

  it('warns for each data-* attribute that reads as a misspelt option, and not for the options', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    readScriptOptions(
      { writeKey: 'wk_1', api: '', hashRouting: '', respectDnt: '', heartbeat: '30', autoPageview: 'true' },
      SRC,
    );
    expect(warn).not.toHaveBeenCalled();
    // data-respect-do-not-track, data-heartbeats, data-write_key, data-autoPageview (HTML lower-cases it),
    // data-api-url, data-hash-route; another tracker's data-do-not-track and data-honor-dnt; slips in the
    // first letters, which the start of the name missed: data-wirte-key (the page then warned only that the
    // write key is missing), data-hearbeat, data-heatbeat, data-has-routing, data-atuo-pageview.
    const misspelt = [
      'respectDoNotTrack',
      'heartbeats',
      'write_key',
      'autopageview',
      'apiUrl',
      'hashRoute',
      'doNotTrack',
      'honorDnt',
      'wirteKey',
      'hearbeat',
      'heatbeat',
      'hasRouting',
      'atuoPageview',
    ];
    const options = readScriptOptions(
      { writeKey: 'wk_1', ...Object.fromEntries(misspelt.map((name) => [name, ''])) },
      SRC,
    );
    expect(warn.mock.calls).toEqual(misspelt.map((name) => [`inlet: unknown data-${name} ignored`]));
    expect(options).toMatchObject({ respectDnt: false, heartbeat: 15, autoPageview: true });
    warn.mockRestore();
  });

  it('warns for every name one slip away from an option (a letter more, less or wrong, or two swapped)', () => {
    const options = ['writeKey', 'hashRouting', 'respectDnt', 'heartbeat', 'autoPageview'];
    const slips = new Set<string>();
    for (const option of [...options, ...options.map((name) => name.toLowerCase())])
      for (let i = 0; i <= option.length; i++) {
        const [before, after] = [option.slice(0, i), option.slice(i)];
        for (const letter of 'abcdefghijklmnopqrstuvwxyz')
          slips.add(before + letter + after).add(before + letter + after.slice(1));
        slips
          .add(before + after.slice(1))
          .add(before + after.slice(1, 2) + after.slice(0, 1) + after.slice(2));
      }
    const misspelt = [...slips].filter((name) => ![...options, 'api'].includes(name));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const unwarned = misspelt.filter((name) => {
      warn.mockClear();
      readScriptOptions({ writeKey: 'wk_1', [name]: '' }, SRC);
      return warn.mock.calls.length === 0;
    });
    warn.mockRestore();
    expect(misspelt.length).toBeGreaterThan(4000);
    expect(unwarned).toEqual([]);
  });

  it("says nothing of other tools' attributes on the script tag, which are no misspelt option", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // Cloudflare Rocket Loader, Cookiebot, CookieConsent, OneTrust, a Plausible snippet, WP Rocket, Next.js.
    const others = [
      'cfasync',
      'cookieconsent',
      'cookiecategory',
      'otIgnore',
      'domain',
      'noOptimize',
      'noMinify',
      // Umami's and Fathom's; and names a slip away from data-api.
      'websiteId',
      'hostUrl',
      'site',
      'spa',
      'app',
      'aid',
    ];
    readScriptOptions(
      {
        writeKey: 'wk_1',
        nscript: 'afterInteractive',
        ...Object.fromEntries(others.map((name) => [name, 'false'])),
      },
      SRC,
    );
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('warns and tracks nothing without a write key', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(readScriptOptions({}, SRC)).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('data-write-key'));
    warn.mockRestore();
  });
});
