import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, basicAuth, segmentMessage, startTestInlet, tempDir } from './helpers.ts';
import { writeProjectFile } from './lake-fixtures.ts';

// The server composes the scheduler, the run history and the catalog: a workflow run started in
// the running server builds a mart from events sent to its collector, and the API shows both.
const project = tempDir();
let inlet: Awaited<ReturnType<typeof startTestInlet>>;

beforeAll(async () => {
  writeProjectFile(
    project.dir,
    'models/signups_daily.sql',
    "/*---\ndescription: Signups per day.\n---*/\nSELECT dt, count(*)::INT AS signups FROM events WHERE name = 'signup' GROUP BY ALL",
  );
  inlet = await startTestInlet({
    project_dir: project.dir,
    models: { builtin: false },
    workflows: [{ name: 'nightly', cron: '0 5 * * *', steps: ['run', 'test'] }],
  });
});
afterAll(async () => {
  await inlet.cleanup();
  project.cleanup();
});

const api = async (path: string) => {
  const response = await fetch(`${inlet.url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
};

describe('workflows in the running server', () => {
  it('runs a workflow, records it, and serves the run and the mart it built', async () => {
    const response = await fetch(`${inlet.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify({ batch: [segmentMessage('w-1'), segmentMessage('w-2')] }),
    });
    expect(response.status).toBe(200);
    await inlet.loader.runOnce({ sealNow: true });
    const id = inlet.scheduler.trigger('nightly');
    await inlet.scheduler.idle();
    expect(await api(`/api/runs/${id}`)).toMatchObject({
      workflow: 'nightly',
      status: 'success',
      steps: [
        { step: 'run', status: 'success' },
        { step: 'test', status: 'success' },
      ],
    });
    expect(await api('/api/catalog/signups_daily')).toMatchObject({
      rows: 1,
      description: 'Signups per day.',
      upstream: ['events'],
    });
    const query = await fetch(`${inlet.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ sql: 'SELECT signups FROM signups_daily' }),
    });
    expect(((await query.json()) as { rows: unknown[][] }).rows).toEqual([[2]]);
  });
});
