import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import {
  type FixtureEvent,
  writeAccessLogs,
  writeEvents,
  writeProjectFile,
} from '../../test/lake-fixtures.ts';
import type { InletConfig } from '../config/index.ts';
import { createQueryEngine, type QueryEngine } from '../engine/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { type RunResult, runModels, testModels } from './index.ts';

// A small hand-made week on site "docs" in Asia/Tokyo (UTC+9), every answer worked out by hand,
// plus site "shop" with events relative to today for the "last N days" marts.
const u1 = { user_id: 'u1', anonymous_id: 'a1', device_type: 'desktop', browser: 'Chrome', os: 'Mac OS' };
const u2 = { user_id: 'u2', anonymous_id: 'a2', device_type: 'mobile', browser: 'Mobile Safari', os: 'iOS' };
const u3 = { user_id: 'u3', anonymous_id: 'a3', device_type: 'desktop', browser: 'Firefox', os: 'Windows' };
const a4 = { anonymous_id: 'a4', device_type: 'mobile', browser: 'Chrome', os: 'Android' };
const a5 = { anonymous_id: 'a5' };
const lecture = (name: string, position: number) => ({
  type: 'track' as const,
  name,
  properties: { content_id: 'lec1', position, duration: 60, interval: 15, kind: 'media' },
});
const page = (path: string, referrer?: string, extra: Partial<FixtureEvent> = {}) => ({
  type: 'page' as const,
  path,
  title: path,
  ...(referrer ? { referrer } : {}),
  ...extra,
});
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000 - 3_600_000).toISOString();

const EVENTS: FixtureEvent[] = [
  // Monday 2026-10-05, local time.
  { ...u1, ts: '2026-10-05T00:00:00Z', type: 'identify', properties: { account_id: 'acct_1' } },
  { ...u1, ts: '2026-10-05T00:01:00Z', ...page('/app', 'https://www.google.com/') },
  { ...u1, ts: '2026-10-05T00:02:00Z', name: 'login' },
  { ...u1, ts: '2026-10-05T00:03:00Z', name: 'report_created' },
  { ...u2, ts: '2026-10-05T01:00:00Z', name: 'login', properties: { account_id: 'acct_1' } },
  { ...u2, ts: '2026-10-05T01:05:00Z', name: 'report_created' },
  // Sunday 16:00 UTC is Monday 01:00 in Tokyo.
  { ...u3, ts: '2026-10-04T16:00:00Z', type: 'identify', properties: { account_id: 'acct_2' } },
  { ...u3, ts: '2026-10-04T16:01:00Z', name: 'login' },
  // Tuesday 2026-10-06: an anonymous visitor in two sessions, another in one, a bot.
  { ...a4, ts: '2026-10-06T03:00:00Z', ...page('/pricing', 'https://www.google.com/search?q=sql') },
  { ...a4, ts: '2026-10-06T03:05:00Z', ...page('/lectures/sql') },
  { ...a4, ts: '2026-10-06T03:06:00Z', name: 'search', properties: { query: 'SSO ', results: 0 } },
  { ...a4, ts: '2026-10-06T05:00:00Z', ...page('/lectures', undefined, { utm_source: 'newsletter' }) },
  { ...a5, ts: '2026-10-06T04:00:00Z', ...page('/') },
  { ...a5, ts: '2026-10-06T04:01:00Z', ...page('/lectures') },
  { ...a5, ts: '2026-10-06T04:02:00Z', ...page('/lectures/sql') },
  { anonymous_id: 'bot', is_bot: true, ts: '2026-10-06T03:00:00Z', ...page('/pricing') },
  // Wednesday 2026-10-07: searches, a lecture watched to the end, half a lecture, page reading.
  { ...u1, ts: '2026-10-07T00:00:00Z', name: 'search', properties: { query: 'sso', results: 0 } },
  { ...u1, ts: '2026-10-07T00:01:00Z', name: 'search', properties: { query: 'export', results: 5 } },
  { ...u1, ts: '2026-10-07T02:00:00Z', ...lecture('media_play', 0) },
  ...[15, 30, 45, 60].map((p, i) => ({
    ...u1,
    ts: `2026-10-07T02:0${i + 1}:00Z`,
    ...lecture('heartbeat', p),
  })),
  { ...u1, ts: '2026-10-07T02:05:00Z', ...lecture('media_ended', 60) },
  ...[15, 30].map((p, i) => ({ ...a4, ts: `2026-10-07T02:1${i}:00Z`, ...lecture('heartbeat', p) })),
  // The unfinished interval when a4 stopped: a heartbeat carrying the 5 seconds it counts.
  {
    ...a4,
    ts: '2026-10-07T02:12:00Z',
    name: 'heartbeat',
    properties: { ...lecture('heartbeat', 30).properties, seconds: 5 },
  },
  ...[0, 1, 2].map((i) => ({
    ...u2,
    ts: `2026-10-07T02:2${i}:00Z`,
    name: 'heartbeat',
    path: '/docs/intro',
    properties: { kind: 'page', interval: 10 },
  })),
  // A newer tracker's heartbeats say their seconds: a whole interval, then the 6 seconds read last.
  ...[10, 6].map((seconds, i) => ({
    ...u2,
    ts: `2026-10-07T02:2${i + 3}:00Z`,
    name: 'heartbeat',
    path: '/docs/intro',
    properties: { kind: 'page', interval: 10, seconds },
  })),
  // The next Monday, and a Monday in November.
  { ...u1, ts: '2026-10-12T00:00:00Z', name: 'login' },
  { ...u2, ts: '2026-11-02T00:00:00Z', ...page('/app/reports') },
  // Site shop, relative to today: one feature used lately, one long ago.
  { site: 'shop', anonymous_id: 's1', user_id: 's1', ts: daysAgo(0), name: 'recent_feature' },
  { site: 'shop', anonymous_id: 's1', user_id: 's1', ts: daysAgo(40), name: 'old_feature' },
  // Site blog: a referrer stored without its scheme, as the collector kept one before 2026-12-07.
  {
    site: 'blog',
    anonymous_id: 'b1',
    ts: '2026-10-06T06:00:00Z',
    ...page('/', 'www.bing.com/search?q=inlet'),
  },
  { site: 'blog', anonymous_id: 'b1', ts: '2026-10-06T06:01:00Z', ...page('/posts/lakes') },
];

const temp = tempDir();
let config: InletConfig;
let engine: QueryEngine;
let first: RunResult;
const query = async (sql: string) => (await engine.query(sql)).rows;

beforeAll(async () => {
  config = testConfig(join(temp.dir, 'data'), {
    project_dir: join(temp.dir, 'project'),
    timezone: 'Asia/Tokyo',
  });
  writeProjectFile(
    config.project_dir,
    'seeds/features.csv',
    'feature,description\nrecent_feature,New\nnever_used,Nobody\n',
  );
  await writeEvents(dataLayout(config.data_dir), EVENTS);
  first = await runModels({ config, logger: createSilentLogger() });
  engine = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
});
afterAll(() => {
  engine?.close();
  temp.cleanup();
});

describe('built-in product marts', () => {
  it('build together, with every data test passing; access-log traffic waits for access_logs', () => {
    const failed = first.models
      .filter((m) => m.status !== 'success')
      .map((m) => [m.name, m.status, m.message]);
    expect(failed).toEqual([
      [
        'access_log_traffic_daily',
        'skipped',
        'access_logs is not in the lake yet, so access_log_traffic_daily waits for it',
      ],
    ]);
    expect(first.ok).toBe(true);
  });

  it('daily, weekly and monthly active users, by local day', async () => {
    expect(
      await query(
        "SELECT dt::VARCHAR, users, visitors, events FROM daily_active_users WHERE site = 'docs' ORDER BY dt",
      ),
    ).toEqual([
      ['2026-10-05', 3, 3, 8],
      ['2026-10-06', 0, 2, 7],
      ['2026-10-07', 2, 3, 16],
      ['2026-10-12', 1, 1, 1],
      ['2026-11-02', 1, 1, 1],
    ]);
    expect(
      await query(
        "SELECT week_start::VARCHAR, users, visitors FROM weekly_active_users WHERE site = 'docs' ORDER BY 1",
      ),
    ).toEqual([
      ['2026-10-05', 3, 5],
      ['2026-10-12', 1, 1],
      ['2026-11-02', 1, 1],
    ]);
    expect(
      await query(
        "SELECT month_start::VARCHAR, users, visitors FROM monthly_active_users WHERE site = 'docs' ORDER BY 1",
      ),
    ).toEqual([
      ['2026-10-01', 3, 5],
      ['2026-11-01', 1, 1],
    ]);
  });

  it('logins per account per day, the account from the event or from identify traits', async () => {
    expect(await query('SELECT user_id, account_id FROM user_accounts ORDER BY 1')).toEqual([
      ['u1', 'acct_1'],
      ['u2', 'acct_1'],
      ['u3', 'acct_2'],
    ]);
    expect(
      await query(
        'SELECT dt::VARCHAR, account_id, logins, users FROM logins_per_account_daily ORDER BY 1, 2',
      ),
    ).toEqual([
      ['2026-10-05', 'acct_1', 2, 2],
      ['2026-10-05', 'acct_2', 1, 1],
      ['2026-10-12', 'acct_1', 1, 1],
    ]);
  });

  it('feature use per day, and known features not used in the last 30 days', async () => {
    expect(
      await query(
        "SELECT dt::VARCHAR, feature, uses, users, accounts FROM feature_usage_daily WHERE site = 'docs'",
      ),
    ).toEqual([['2026-10-05', 'report_created', 2, 2, 1]]);
    expect(
      await query(
        "SELECT feature, listed, uses_7d, uses_30d, uses_90d, last_used_dt IS NOT NULL FROM feature_usage_summary WHERE site = 'shop' ORDER BY 1",
      ),
    ).toEqual([
      ['never_used', true, 0, 0, 0, false],
      ['old_feature', false, 0, 0, 1, true],
      ['recent_feature', true, 1, 1, 1, true],
    ]);
    expect(
      await query("SELECT site, feature, listed FROM features_unused WHERE site <> 'blog' ORDER BY 1, 2"),
    ).toEqual([
      ['docs', 'never_used', true],
      ['docs', 'recent_feature', true],
      ['docs', 'report_created', false],
      ['shop', 'never_used', true],
      ['shop', 'old_feature', false],
    ]);
  });

  it('page views, and entry paths from source through landing page to each later page', async () => {
    expect(
      await query(
        "SELECT dt::VARCHAR, path, page_views, visitors FROM page_views_daily WHERE site = 'docs' ORDER BY 1, 2",
      ),
    ).toEqual([
      ['2026-10-05', '/app', 1, 1],
      ['2026-10-06', '/', 1, 1],
      ['2026-10-06', '/lectures', 2, 2],
      ['2026-10-06', '/lectures/sql', 2, 2],
      ['2026-10-06', '/pricing', 1, 1],
      ['2026-11-02', '/app/reports', 1, 1],
    ]);
    expect(
      await query(
        "SELECT source, landing_path, sessions FROM entry_paths WHERE target_path = '/lectures/sql' ORDER BY 1",
      ),
    ).toEqual([
      ['(direct)', '/', 1],
      ['google.com', '/pricing', 1],
    ]);
    expect(await query("SELECT count(*)::INT FROM entry_paths WHERE site = 'docs'")).toEqual([[3]]);
    // A referrer without a scheme still names its host (www.bing.com/search?q=inlet was the source whole).
    expect(
      await query("SELECT source, landing_path, target_path FROM entry_paths WHERE site = 'blog'"),
    ).toEqual([['bing.com', '/', '/posts/lakes']]);
  });

  it('activity by hour and weekday in the configured time zone, heartbeats left out', async () => {
    const cell = (weekday: number, hour: number) =>
      query(
        `SELECT weekday_name, events, visitors, users FROM activity_by_hour WHERE site = 'docs' AND weekday = ${weekday} AND hour = ${hour}`,
      );
    expect(await cell(1, 9)).toEqual([['Monday', 6, 2, 2]]);
    expect(await cell(1, 1)).toEqual([['Monday', 2, 1, 1]]);
    expect(await cell(2, 12)).toEqual([['Tuesday', 3, 1, 0]]);
    expect(await cell(3, 11)).toEqual([['Wednesday', 2, 1, 1]]);
    expect(await query("SELECT sum(events)::INT FROM activity_by_hour WHERE site = 'docs'")).toEqual([[21]]);
  });

  it('devices, browsers and operating systems', async () => {
    expect(
      await query(
        "SELECT device_type, browser, os, visitors, page_views FROM devices_daily WHERE site = 'docs' AND dt = '2026-10-06' ORDER BY 1, 2",
      ),
    ).toEqual([
      ['desktop', '(unknown)', '(unknown)', 1, 3],
      ['mobile', 'Chrome', 'Android', 1, 3],
    ]);
  });

  it('site searches, and searches that found nothing, with their counts', async () => {
    expect(
      await query(
        'SELECT dt::VARCHAR, query, searches, no_result_searches, avg_results FROM site_searches_daily ORDER BY 1, 2',
      ),
    ).toEqual([
      ['2026-10-06', 'sso', 1, 1, 0],
      ['2026-10-07', 'export', 1, 0, 5],
      ['2026-10-07', 'sso', 1, 1, 0],
    ]);
    expect(
      await query(
        'SELECT query, no_result_searches, searches, last_no_result_dt::VARCHAR FROM searches_without_results',
      ),
    ).toEqual([['sso', 2, 2, '2026-10-07']]);
  });

  it('viewing from heartbeats: per viewer and item, per item, per viewer', async () => {
    expect(
      await query(
        'SELECT kind, content_id, viewer, seconds_watched, completion, completed FROM viewing_by_user_content ORDER BY 1, 2, 3',
      ),
    ).toEqual([
      ['media', 'lec1', 'a4', 35, 0.5, false],
      ['media', 'lec1', 'u1', 60, 1, true],
      ['page', '/docs/intro', 'u2', 46, null, false],
    ]);
    expect(
      await query(
        'SELECT kind, content_id, viewers, minutes_watched, completed_viewers, completion_rate, avg_completion FROM viewing_by_content ORDER BY 1',
      ),
    ).toEqual([
      ['media', 'lec1', 2, 1.58, 1, 0.5, 0.75],
      ['page', '/docs/intro', 1, 0.77, 0, 0, null],
    ]);
    expect(
      await query(
        'SELECT kind, viewer, items_viewed, minutes_watched, items_completed, completion_rate FROM viewing_by_user ORDER BY 1, 2',
      ),
    ).toEqual([
      ['media', 'a4', 1, 0.58, 0, 0],
      ['media', 'u1', 1, 1, 1, 1],
      ['page', 'u2', 1, 0.77, 0, 0],
    ]);
  });

  it('access-log traffic and errors by path and status, once access_logs exists', async () => {
    await writeAccessLogs(dataLayout(config.data_dir), [
      { ts: '2026-10-05T01:00:00Z', path: '/a', status: 200 },
      { ts: '2026-10-05T02:00:00Z', path: '/a', status: 200 },
      { ts: '2026-10-05T03:00:00Z', path: '/a', status: 404 },
      { ts: '2026-10-06T03:00:00Z', path: '/b', status: 503 },
    ]);
    const result = await runModels({
      config,
      logger: createSilentLogger(),
      selectors: ['access_log_traffic_daily'],
    });
    expect(result.models[0]?.status).toBe('success');
    expect(
      await query(
        'SELECT dt::VARCHAR, path, status, status_class, is_error, requests FROM access_log_traffic_daily ORDER BY 1, 2, 3',
      ),
    ).toEqual([
      ['2026-10-05', '/a', 200, '2xx', false, 2],
      ['2026-10-05', '/a', 404, '4xx', true, 1],
      ['2026-10-06', '/b', 503, '5xx', true, 1],
    ]);
    expect((await testModels({ config })).ok).toBe(true);
  });

  it('monthly active users keep the months whose raw events retention deleted', async () => {
    // Rebuilt whole at each run, the mart lost every month older than retention.events_days.
    const months =
      "SELECT month_start::VARCHAR, users, visitors FROM monthly_active_users WHERE site = 'docs' ORDER BY 1";
    const before = await query(months);
    expect(before).toEqual([
      ['2026-10-01', 3, 5],
      ['2026-11-01', 1, 1],
    ]);
    const { events } = dataLayout(config.data_dir);
    for (const partition of readdirSync(events))
      if (partition < 'dt=2026-11-01') rmSync(join(events, partition), { recursive: true });
    const result = await runModels({
      config,
      logger: createSilentLogger(),
      selectors: ['+monthly_active_users'],
    });
    expect(result.ok).toBe(true);
    expect(await query(months)).toEqual(before);
  });
});
