import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it, vi } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { API_TOKEN, queryEngineApp, tempDir, testConfig } from '../../test/helpers.ts';

const cleanups = cleanupAfterEach();

/** A query that scans for minutes, until it is cancelled. */
const SLOW = 'SELECT count(*) FROM range(100000000000)';

describe('POST /api/query with every slot taken and the line full', () => {
  it('answers QUERY_BUSY with a Retry-After of when one running may end, saying so, not a fixed 2 s', async () => {
    const temp = tempDir();
    const config = {
      ...testConfig(temp.dir, { query: { max_concurrent: 1, timeout_ms: 120_000 } }),
      configPath: join(temp.dir, 'prod.yaml'),
    };
    const { engine, app } = await queryEngineApp(config, API_TOKEN);
    cleanups.push(async () => {
      await app.close();
      engine.close();
      temp.cleanup();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/query`;
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const post = (sql: string, id?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ sql, ...(id !== undefined && { query_id: id }) }),
      });
    // The engine's process is up before the slow queries come, so the first runs as it arrives.
    expect((await post('SELECT 1')).status).toBe(200);
    // One running and four in line fill it; each one more waits in line until the line is full.
    const sent: Array<Promise<Response>> = [];
    const settled = new Set<number>();
    let refused: Response | undefined;
    for (let i = 0; refused === undefined && i < 20; i++) {
      const answer = post(SLOW, `slow-${i}`);
      sent.push(answer);
      answer.then(() => settled.add(i));
      // Whatever answers at once answers for a full line; the rest wait, as no slow query ends.
      await new Promise((resolve) => setTimeout(resolve, i < 5 ? 50 : 500));
      const first = [...settled][0];
      if (first !== undefined) refused = await sent[first];
    }
    cleanups.push(async () => {
      for (const i of sent.keys()) await fetch(`${url}/slow-${i}`, { method: 'DELETE', headers: auth });
      await Promise.allSettled(sent);
    });
    if (refused === undefined) throw new Error('twenty slow queries, and none was refused');
    expect(refused.status).toBe(503);
    const retryAfter = refused.headers.get('retry-after');
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('QUERY_BUSY');
    expect(error.message).toMatch(
      /^Too many queries are running \(query\.max_concurrent is 1, and 4 more wait\); one of those running has run about (\d+) s and may take as long again: retry in about \1 s, when a place in line may be free, or raise query\.max_concurrent in prod\.yaml\.$/,
    );
    expect(retryAfter).toBe(/retry in about (\d+) s/.exec(error.message)?.[1]);
  });
});

describe('POST /api/query that DuckDB will not open a connection for', () => {
  it('answers QUERY_BUSY with a Retry-After when DuckDB will not open a connection for the query, not a 500', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    // In the server's own process, where connect() can be refused: the query engine's process is another.
    const { engine, app } = await queryEngineApp(config, API_TOKEN, { inProcess: true });
    const refused = vi
      .spyOn(DuckDBInstance.prototype, 'connect')
      .mockRejectedValueOnce(new Error('Failed to connect'));
    cleanups.push(async () => {
      refused.mockRestore();
      await app.close();
      engine.close();
      temp.cleanup();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/query`;
    const post = () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
        body: JSON.stringify({ sql: 'SELECT 1 AS n' }),
      });
    const answer = await post();
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    const { error } = (await answer.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('QUERY_BUSY');
    expect(error.message).toMatch(
      /^DuckDB could not open a connection for the query \(Failed to connect\), which it refuses only when it cannot get the memory for one, so nothing of the query ran; retry in a moment\./,
    );
    expect(refused).toHaveBeenCalledTimes(1);
    // As told: the retry runs.
    expect(await (await post()).json()).toMatchObject({ rows: [[1]] });
  });
});
