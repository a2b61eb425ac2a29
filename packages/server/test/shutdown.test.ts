import { Agent, request as httpRequest } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { API_TOKEN, basicAuth, queryApi, segmentMessage, tempDir } from './helpers.ts';
import { exited, inletConfigFile, startInletProcess } from './inlet-process.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** POSTs a batch over the agent's kept-alive connection; resolves with the status, or undefined if the connection failed. */
function postBatch(agent: Agent, url: string, ids: string[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ batch: ids.map((id) => segmentMessage(id)) });
    const request = httpRequest(
      `${url}/v1/batch`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
        response.on('error', () => resolve(undefined));
      },
    );
    request.on('error', () => resolve(undefined));
    request.end(body);
  });
}

describe('shutdown', () => {
  it('stops on SIGTERM while keep-alive clients keep sending, and keeps what it acknowledged', async () => {
    const { config, url } = await inletConfigFile(temp.dir);
    let child = await startInletProcess(config, url, API_TOKEN);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const acknowledged = new Set<string>();
    let stopped = false;
    const exit = exited(child).then(() => {
      stopped = true;
    });
    let batch = 0;
    const client = async (c: number) => {
      while (!stopped) {
        const ids = [`k${c}-${batch++}`];
        if ((await postBatch(agent, url, ids)) === 200) for (const id of ids) acknowledged.add(id);
      }
    };
    const clients = Array.from({ length: 4 }, (_, c) => client(c));
    while (acknowledged.size < 50) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGTERM');
    await exit;
    await Promise.all(clients);
    agent.destroy();
    expect(child.exitCode).toBe(0);

    child = await startInletProcess(config, url, API_TOKEN);
    try {
      const rows = await queryApi(url, "SELECT event_id FROM events WHERE event_id LIKE 'k%'");
      const seen = new Set(rows.map((row) => row.event_id));
      expect([...acknowledged].filter((id) => !seen.has(id))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  }, 30_000);
});
