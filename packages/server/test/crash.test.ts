import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_TOKEN, basicAuth, queryApi, segmentMessage, tempDir } from './helpers.ts';
import { exited, inletConfigFile, startInletProcess } from './inlet-process.ts';

const temp = tempDir('inlet-crash-');
afterAll(() => temp.cleanup());

const startChild = (config: string, url: string) => startInletProcess(config, url, API_TOKEN);

/** Every value of a one-column query, through the CSV export, which streams every row. */
async function queryColumn(url: string, sql: string): Promise<string[]> {
  const response = await fetch(`${url}/api/query?format=csv`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify({ sql }),
  });
  if (!response.ok) throw new Error(`query failed with ${response.status}: ${await response.text()}`);
  return (await response.text())
    .split(/\r?\n/)
    .slice(1)
    .filter((line) => line !== '');
}

describe('crash safety', () => {
  it('after SIGKILL right after acknowledgements, every acknowledged event is in events exactly once', async () => {
    const { config, url } = await inletConfigFile(
      temp.dir,
      'wal: { seal_after_ms: 300 }\nloader: { interval_ms: 100, compact_min_files: 3 }\n',
    );
    let child = await startChild(config, url);
    const acknowledged = new Set<string>();
    let stop = false;
    let sent = 0;
    const worker = async (w: number) => {
      while (!stop) {
        const ids = Array.from({ length: 20 }, (_, i) => `w${w}-${sent}-${i}`);
        sent++;
        try {
          const response = await fetch(`${url}/v1/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: basicAuth() },
            body: JSON.stringify({ batch: ids.map((id) => segmentMessage(id)) }),
          });
          if (response.status === 200) for (const id of ids) acknowledged.add(id);
        } catch {
          // The process was killed mid-request: not acknowledged, so the client would retry.
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    // Let the loader and compaction run while traffic flows, then kill without warning.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await exited(child);
    expect(acknowledged.size).toBeGreaterThan(200);

    child = await startChild(config, url);
    try {
      const seen = new Set(await queryColumn(url, "SELECT event_id FROM events WHERE event_id LIKE 'w%'"));
      expect([...acknowledged].filter((id) => !seen.has(id))).toEqual([]);
      const repeated = await queryApi(
        url,
        'SELECT event_id, count(*)::INT AS n FROM events GROUP BY ALL HAVING n > 1',
      );
      expect(repeated).toEqual([]);
      // And again once everything has been loaded into Parquet: no WAL bytes are left to load.
      const walBytes = async () =>
        Number(/^inlet_wal_bytes (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
      for (let i = 0; i < 300 && (await walBytes()) !== 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await walBytes()).toBe(0);
      const total = await queryApi(
        url,
        'SELECT count(*)::INT AS n, count(DISTINCT event_id)::INT AS d FROM events',
      );
      expect(total[0]?.n).toBe(total[0]?.d);
      expect(Number(total[0]?.n)).toBeGreaterThanOrEqual(acknowledged.size);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  }, 60_000);

  it('killed again and again mid-load and mid-compaction, with clients retrying, keeps every acknowledged event once', async () => {
    // Small segments and eager compaction, so kills land in every phase of the loader.
    const { config, url } = await inletConfigFile(
      join(temp.dir, 'repeated'),
      'limits: { per_ip_per_second: 0, per_write_key_per_second: 0 }\n' +
        'wal: { segment_bytes: 262144, seal_after_ms: 200 }\nloader: { interval_ms: 50, compact_min_files: 2 }\nmodels: { builtin: false }\n',
    );
    const acknowledged: string[] = [];
    let next = 0;
    for (let round = 0; round < 5; round++) {
      const child = await startChild(config, url);
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const ids = Array.from({ length: 50 }, () => `r-${next++}`);
          // A client retrying a batch that was acknowledged before: it must not count twice.
          if (acknowledged.length > 0) ids.push(acknowledged[(next * 7919) % acknowledged.length] as string);
          try {
            const response = await fetch(`${url}/v1/batch`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: basicAuth() },
              body: JSON.stringify({
                batch: ids.map((id) => segmentMessage(id, { properties: { pad: 'x'.repeat(300) } })),
              }),
            });
            if (response.status === 200) acknowledged.push(...ids);
          } catch {
            // Killed mid-request: not acknowledged.
          }
        }
      };
      // A reader querying all along: loaded segments then wait for its queries before they are
      // deleted, and those deletions run in any order (grouped loads once lost rows that way).
      const reader = async () => {
        while (!stop) {
          try {
            await queryApi(url, "SELECT count(*) FROM events WHERE event_id LIKE 'r-%'");
          } catch {
            // Killed mid-query.
          }
        }
      };
      const workers = [...Array.from({ length: 4 }, () => worker()), reader()];
      await new Promise((resolve) => setTimeout(resolve, 400 + round * 250));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await exited(child);
    }
    const expected = new Set(acknowledged);
    expect(expected.size).toBeGreaterThan(1000);

    // Queried at once, while the restarted loader drains the backlog the kills left.
    const child = await startChild(config, url);
    try {
      // Through the CSV export, which has no row cap: a fast machine acknowledges more events than
      // the JSON answer's query.max_rows (100,000), and then ids past the cap looked lost.
      const seen = new Set(await queryColumn(url, "SELECT event_id FROM events WHERE event_id LIKE 'r-%'"));
      expect([...expected].filter((id) => !seen.has(id))).toEqual([]);
      const repeated = await queryApi(
        url,
        "SELECT event_id, count(*)::INT AS n FROM events WHERE event_id LIKE 'r-%' GROUP BY ALL HAVING n > 1",
      );
      expect(repeated).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  }, 120_000);
});
