// inlet start --config with a file not named inlet.yaml: what its log and its refusals tell a person
// or a client to edit is that file, where the collector's answers said inlet.yaml.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_TOKEN, basicAuth, configIn, jsonLines, segmentMessage, tempDir, WRITE_KEY } from './helpers.ts';
import { freePort, spawnInlet, stopInlet } from './inlet-process.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** Runs test(url, log) against `inlet start --config <dir>/staging.yaml` with sites (YAML), then stops it (exit 0). */
async function withStaging(name: string, sites: string, test: (url: string, log: string) => Promise<void>) {
  const port = await freePort();
  const config = configIn(
    join(temp.dir, name),
    `data_dir: ./data\nserver: { host: 127.0.0.1, port: ${port} }\n${sites}`,
    'staging.yaml',
  );
  const inlet = spawnInlet(['start', '--config', config], {
    ...process.env,
    INLET_API_TOKEN: API_TOKEN,
    INLET_LOG_LEVEL: 'info',
  });
  try {
    await inlet.waitForOutput('inlet is listening');
    await test(`http://127.0.0.1:${port}`, inlet.out);
  } finally {
    expect(await stopInlet(inlet)).toBe(0);
  }
}

/** POSTs body to url + path; resolves with the status and the error's message. */
async function refusal(url: string, path: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const { error } = (await response.json()) as { error: { message: string } };
  return [response.status, error.message];
}

describe('inlet start --config staging.yaml', () => {
  it('names staging.yaml where it says to add a site, at start and in each 401', async () => {
    await withStaging('no-site', 'sites: []\n', async (url, log) => {
      const warnings = jsonLines<{ level: number; msg: string }>(log).filter((line) => line.level === 40);
      expect(warnings.map((line) => line.msg)).toEqual([
        expect.stringContaining('no site is set up in staging.yaml'),
      ]);
      expect(
        await refusal(url, '/v1/track', segmentMessage('no-site'), { authorization: basicAuth() }),
      ).toEqual([
        401,
        'No site is set up in staging.yaml, so no write key is known; add one under sites: (an id and a write_key) and restart inlet.',
      ]);
    });
  }, 60_000);

  it('names staging.yaml in the 401 for an unknown key or domain and the 403 for an origin not allowed', async () => {
    const site = `{ id: docs, write_key: ${WRITE_KEY}, origins: [https://docs.example.com], domains: [docs.example.com] }`;
    await withStaging('sites', `sites:\n  - ${site}\n`, async (url) => {
      const batch = { batch: [segmentMessage('staging-1')] };
      expect(await refusal(url, '/v1/batch', batch, { authorization: basicAuth('wk_unknown_1') })).toEqual([
        401,
        'Unknown write key; check the key against the sites in staging.yaml.',
      ]);
      expect(
        await refusal(url, '/v1/batch', batch, {
          authorization: basicAuth(),
          origin: 'https://evil.example.com',
        }),
      ).toEqual([
        403,
        'Origin https://evil.example.com is not allowed for site docs; add it to sites[].origins in staging.yaml.',
      ]);
      const plausible = { n: 'pageview', u: 'https://other.example.com/', d: 'other.example.com' };
      expect(await refusal(url, '/api/event', plausible, {})).toEqual([
        401,
        'No site has domain other.example.com; add it to sites[].domains in staging.yaml.',
      ]);
    });
  }, 60_000);
});
