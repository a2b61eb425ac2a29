// What the demo site is made of: a SaaS tool with online lectures and a searchable help centre.

export const USER_AGENTS: ReadonlyArray<readonly [string, number]> = [
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    30,
  ],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    22,
  ],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 8],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    20,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    12,
  ],
  [
    'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
    8,
  ],
];

export const BOT_AGENTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
];

export const MARKETING_PAGES: ReadonlyArray<readonly [string, string, number]> = [
  ['/', 'Acme Learning — product analytics courses', 40],
  ['/pricing', 'Pricing — Acme Learning', 15],
  ['/blog/cohort-analysis', 'Cohort analysis in practice', 10],
  ['/blog/funnels-that-work', 'Funnels that work', 8],
  ['/lectures', 'All lectures', 20],
];

export const APP_PAGES: ReadonlyArray<readonly [string, string, number]> = [
  ['/app/dashboard', 'Dashboard', 40],
  ['/app/reports', 'Reports', 20],
  ['/app/projects', 'Projects', 15],
  ['/app/settings', 'Settings', 5],
  ['/help', 'Help centre', 8],
];

export const LECTURES: ReadonlyArray<readonly [string, string, number]> = [
  ['intro-to-sql', 'Introduction to SQL', 900],
  ['window-functions', 'Window functions', 1260],
  ['retention-curves', 'Retention curves', 1080],
  ['ab-testing-basics', 'A/B testing basics', 1500],
  ['data-modeling-101', 'Data modelling 101', 1800],
  ['dashboards-people-read', 'Dashboards people read', 720],
];

/** Track events that stand for product features, with how often they are used. */
export const FEATURES: ReadonlyArray<readonly [string, number]> = [
  ['report_created', 20],
  ['report_exported', 14],
  ['dashboard_shared', 8],
  ['filter_applied', 30],
  ['project_created', 5],
  ['teammate_invited', 3],
  ['csv_uploaded', 4],
];

/**
 * What each demo feature is, for the features seed the demo writes (as its features.csv has
 * feature,description): the two nobody uses are there so that features_unused lists something.
 * No commas or quotes, so each is a CSV field as it is.
 */
export const FEATURE_DESCRIPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['report_created', 'Creating a report'],
  ['report_exported', 'Exporting a report as CSV or PDF'],
  ['dashboard_shared', 'Sharing a dashboard with a link'],
  ['filter_applied', 'Filtering a report or dashboard'],
  ['project_created', 'Creating a project'],
  ['teammate_invited', 'Inviting a teammate to the account'],
  ['csv_uploaded', 'Uploading a CSV file'],
  ['gantt_view', 'Showing a project as a Gantt chart'],
  ['slack_alert_created', 'Sending an alert to Slack'],
];

/** Searches in the help centre: [query, results]; some find nothing. */
export const SEARCHES: ReadonlyArray<readonly [string, number, number]> = [
  ['export csv', 12, 20],
  ['invite teammate', 4, 10],
  ['sso', 0, 8],
  ['retention', 9, 12],
  ['api token', 3, 8],
  ['dark mode', 0, 6],
  ['delete account', 2, 4],
  ['slack integration', 0, 7],
  ['gantt chart', 0, 3],
  ['window function', 5, 6],
];

export const REFERRERS: ReadonlyArray<readonly [string | null, string, number]> = [
  [null, '', 35],
  ['https://www.google.com/', '', 30],
  ['https://t.co/abc123', '?utm_source=twitter&utm_medium=social&utm_campaign=launch', 8],
  ['https://news.ycombinator.com/', '', 6],
  [null, '?utm_source=newsletter&utm_medium=email&utm_campaign=weekly', 12],
  ['https://www.linkedin.com/', '?utm_source=linkedin&utm_medium=social', 9],
];
