import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configIn, tempDir } from '../../test/helpers.ts';
import { apiTokenProblem, expandEnv, loadConfig, parseConfig } from './index.ts';

const write = (text: string) => {
  const { dir } = tempDir('inlet-config-');
  return { dir, path: configIn(dir, text) };
};

/** An inlet.yaml whose workflow "nightly" has one step, run: "+x", with these lines under its vars:. */
const nightlyVars = (lines: string) =>
  write(
    `workflows:\n  - name: nightly\n    cron: "0 3 * * *"\n    steps:\n      - run: "+x"\n        vars:\n${lines}`,
  );

/** loadConfig refuses that step's vars with this message. */
const expectStepVarsRefused = (path: string, message: string) =>
  expect(() => loadConfig({ path, env: {} })).toThrow(
    expect.objectContaining({
      code: 'CONFIG_INVALID',
      message: `${path} is not valid:\n  workflow "nightly" (workflows[0]), steps[0].vars: ${message}`,
    }),
  );

describe('config', () => {
  it('runs on defaults when there is no inlet.yaml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inlet-config-'));
    const config = loadConfig({ env: {}, cwd: dir });
    expect(config.data_dir).toBe(join(dir, 'data'));
    expect(config.timezone).toBe('UTC');
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      trust_proxy: 0,
      request_timeout_ms: 60_000,
    });
    expect(config.sites).toEqual([]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('reads the documented example, expands ${ENV} and resolves data_dir next to the file', () => {
    const { dir, path } = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'data_dir: ./d\ntimezone: Asia/Tokyo\nserver: { host: 127.0.0.1, port: 9090 }\nsites:\n  - id: docs\n    write_key: ${DOCS_KEY}\n    origins: [https://docs.example.com]\n',
    );
    const config = loadConfig({
      path,
      env: { DOCS_KEY: 'wk_docs_9f3a', INLET_API_TOKEN: 'secret-0123456789' },
    });
    expect(config.data_dir).toBe(join(dir, 'd'));
    expect(config.sites[0]).toMatchObject({
      id: 'docs',
      write_key: 'wk_docs_9f3a',
      origins: ['https://docs.example.com'],
    });
    expect(config.apiToken).toBe('secret-0123456789');
  });

  it('says why an INLET_API_TOKEN cannot guard the API: too short, or no Authorization header can carry it', () => {
    // Taken, such a token made every API request a 401: no request could send it.
    expect(apiTokenProblem('secret')).toMatch(/^INLET_API_TOKEN is shorter than 16 characters/);
    for (const [token, why] of [
      ['correct horse battery staple', 'a space'],
      ['0123456789abcdef0123\r', 'a control character (a line ending, say)'],
      ['mot-de-passe-très-long', 'a letter outside ASCII'],
    ])
      expect(apiTokenProblem(token), why).toContain(
        `INLET_API_TOKEN holds ${why}, which an Authorization: Bearer`,
      );
    expect(apiTokenProblem('Tr0ub4dor&3-~+/=.0123')).toBeUndefined();
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('says a port from a quoted ${PORT} is text because of its quotes, where it said only "not the text "9090""', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    const { path } = write('server:\n  port: "${PORT}"\n');
    expect(() => loadConfig({ path, env: { PORT: '9090' } })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(
          // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
          'server.port: must be a number, not the text "9090"; it is in quotes, which make it text in YAML: write it without them, port: 9090 (a ${NAME} reference too: port: ${NAME}, not port: "${NAME}")',
        ),
      }),
    );
  });

  it('refuses a tag YAML does not know with CONFIG_INVALID, naming the file, line and tag', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    const { path } = write('server:\n  port: ${PORT}\n  host: !foo 127.0.0.1\n');
    expect(() => loadConfig({ path, env: { PORT: '9090' } })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: `${path} is not valid YAML at line 3: the tag !foo is not one YAML knows; quote the value to pass it as text.`,
      }),
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('takes an ${ENV} value that YAML would not read ([, !x) as its text, with no Node warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    const { path } = write('sites:\n  - id: docs\n    write_key: ${KEY}\n');
    const keys = ['[wk_docs_9f3a', '!wk_docs_9f3a', 'wk: docs: 9f3a'].map(
      (KEY) => loadConfig({ path, env: { KEY } }).sites[0]?.write_key,
    );
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect([keys, warnings.map((w) => w.message)]).toEqual([
      ['[wk_docs_9f3a', '!wk_docs_9f3a', 'wk: docs: 9f3a'],
      [],
    ]);
  });

  it('names a key written as a list or a map as unknown, with no Node warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const { path } = write('[a, b]: 1\n');
    expect(() => loadConfig({ path, env: {} })).toThrow('(top level): unknown key "[ a, b ]"');
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.map((w) => w.message)).toEqual([]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('expands ${ENV} inside values, so a value with ": #" or a newline stays one value', () => {
    const { path } = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      '# ${UNSET_IN_A_COMMENT}\nserver: { port: ${PORT}, trust_proxy: ${PROXY} }\nsites:\n  - id: docs\n    write_key: ${DOCS_KEY}\n    domains: ["${HOST}"]\n',
    );
    const env = { PORT: '9090', PROXY: 'true', DOCS_KEY: 'wk: a #b\nc: d', HOST: '12' };
    const config = loadConfig({ path, env });
    expect(config.server.port).toBe(9090);
    expect(config.server.trust_proxy).toBe(1);
    expect(config.sites[0]?.write_key).toBe('wk: a #b\nc: d');
    expect(config.sites[0]?.domains).toEqual(['12']);
  });

  it('refuses a reference in a key, naming the line, as it expands references in values only', () => {
    // Written with % for $ here, as the linter reads "$" "{" in a string as a template's.
    const env = (text: string) => text.replaceAll('%{', '${');
    // server: { %{K}: 9090 } set server.port from K=port, a key the file did not show.
    for (const [text, line, key] of [
      ['server:\n  %{K}: 9090\n', 2, '%{K}'],
      ['server: { host: 127.0.0.1, "p%{K:-ort}": 9090 }\n', 1, 'p%{K:-ort}'],
    ] as const) {
      const { path } = write(env(text));
      expect(() => loadConfig({ path, env: { K: 'port' } }), text).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: env(
            `${path} is not valid at line ${line}: the key "${key}" holds a %{NAME} reference, which inlet expands in values only; write the key itself (port: %{PORT}, not %{KEY}: 8080).`,
          ),
        }),
      );
    }
    // In a step's vars, whose keys are names you choose, too.
    const { path } = nightlyVars(env('          %{REGION}: eu\n'));
    expect(() => loadConfig({ path, env: { REGION: 'region' } })).toThrow(
      env('is not valid at line 7: the key "%{REGION}" holds a %{NAME} reference'),
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it("expands ${ENV} in a workflow step's vars, which took the text inlet stands in for it", () => {
    const { path } = nightlyVars(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      '          region: ${REGION}\n          days: ${DAYS}\n          quoted: "${DAYS}"\n',
    );
    const config = loadConfig({ path, env: { REGION: 'eu', DAYS: '7' } });
    expect(config.workflows[0]?.steps[0]).toMatchObject({
      kind: 'run',
      vars: { region: 'eu', days: 7, quoted: '7' },
    });
  });

  it("refuses a workflow step's vars with a key written as a list or a map, naming the workflow and step", () => {
    // It became a var named "[ a ]", which no var() can name; --vars and dbt_project.yml refuse it.
    const { path } = nightlyVars('          [a]: 1\n          b: 2\n');
    expectStepVarsRefused(
      path,
      `the key [a] (line 7, column 11) is a list or a map; a key must be a name, such as a: 1.`,
    );
  });

  it("refuses a workflow step's vars with a date that is no real day, naming the key, as --vars does", () => {
    const { path } = nightlyVars('          start: 2026-02-30\n');
    expectStepVarsRefused(
      path,
      `start: 2026-02-30 is no date (day is out of range for month), which dbt refuses; write a real date, or quote it ("2026-02-30") to pass it as text.`,
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('leaves out a source with an unset ${VAR} only for commands that do not use it, and never one unnamed', () => {
    const { path } = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'sources:\n  - { name: crm, type: postgres, url: "${UNSET_URL}", tables: [{ table: plans }] }\n',
    );
    expect(loadConfig({ path, env: {}, sourcesInUse: [] })).toMatchObject({
      sources: [],
      sourcesLeftOut: ['crm'],
    });
    for (const sourcesInUse of ['all', ['crm']] as const)
      expect(() => loadConfig({ path, env: {}, sourcesInUse })).toThrow(
        /UNSET_URL is referenced but not set/,
      );
    expect(() => loadConfig({ path, env: {} })).toThrow(/UNSET_URL is referenced but not set/);
    const unnamed = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'sources:\n  - { name: "${UNSET_NAME}", type: csv, tables: [{ path: a.csv }] }\n',
    );
    expect(() => loadConfig({ path: unnamed.path, env: {}, sourcesInUse: [] })).toThrow(
      /UNSET_NAME is referenced but not set/,
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('checks a source left out for an unset ${VAR} as strictly as one configured, but for the keys holding it', () => {
    // Its other keys went unchecked until the variable was set at deploy time, when inlet refused to start.
    const refused = (entry: string) =>
      loadConfig({ path: write(`sources:\n  - ${entry}\n`).path, env: {}, sourcesInUse: [] });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    const url = 'url: "${UNSET_URL}"';
    for (const [entry, message] of [
      [
        `{ name: crm, type: postgres, ${url}, tabels: [{ table: plans }] }`,
        /sources\[0\]: unknown key "tabels"/,
      ],
      [`{ name: crm, type: postgres, ${url}, tables: plans }`, /sources\[0\]\.tables: /],
      [
        `{ name: crm, type: postgres, ${url}, tables: [{ table: plans, mode: sometimes }] }`,
        /sources\[0\]\.tables\[0\]\.mode: /,
      ],
      [
        `{ name: crm, type: postgress, ${url}, tables: [{ table: plans }] }`,
        /sources\[0\]\.type: "postgress" is not a source type/,
      ],
      [
        `{ name: CRM, type: postgres, ${url}, tables: [{ table: plans }] }`,
        /sources\[0\]\.name: must start with a lower-case letter/,
      ],
    ] as const)
      expect(() => refused(entry), entry).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) }),
      );
    // The keys that hold it are its doing: an empty url, a type that names no kind yet.
    for (const entry of [
      `{ name: crm, type: postgres, ${url}, tables: [{ table: plans }] }`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      '{ name: crm, type: "${UNSET_TYPE}", url: x, tables: [{ table: plans }] }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      '{ name: crm, type: mysql, url: "mysql://inlet:${UNSET_PASSWORD}@db/app", statement_timeout_ms: "${UNSET_TIMEOUT}", tables: [{ table: plans }] }',
    ])
      expect(refused(entry), entry).toMatchObject({ sources: [], sourcesLeftOut: ['crm'] });
    // A name used twice, the configured crm and the one left out, refused once the variable is set.
    const twice = write(
      'sources:\n  - { name: crm, type: csv, tables: [{ path: a.csv }] }\n' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        '  - { name: crm, type: postgres, url: "${UNSET_URL}", tables: [{ table: plans }] }\n',
    );
    expect(() => loadConfig({ path: twice.path, env: {}, sourcesInUse: [] })).toThrow(
      'sources[1].name: "crm" is used twice; source names must be unique',
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('leaves out a workflow with an unset ${VAR} for every command, naming the variable, and never one unnamed', () => {
    // It stopped every command (inlet query, inlet start), where a source's leaves that source out.
    const { path } = write(
      'workflows:\n' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        '  - { name: backfill, cron: "0 5 * * *", steps: [{ run: "+x", vars: { start: "${BACKFILL_START}" } }] }\n' +
        '  - { name: nightly, cron: "0 6 * * *", steps: [test] }\n',
    );
    for (const sourcesInUse of ['all', []] as const) {
      const config = loadConfig({ path, env: {}, sourcesInUse });
      expect(config.workflows.map((w) => w.name)).toEqual(['nightly']);
      expect(config.workflowsLeftOut).toEqual({ backfill: 'BACKFILL_START' });
    }
    expect(loadConfig({ path, env: { BACKFILL_START: '2026-01-01' } })).toMatchObject({
      workflows: [{ name: 'backfill' }, { name: 'nightly' }],
      workflowsLeftOut: {},
    });
    // As strict as before elsewhere: a bad cron in a workflow left out is still refused.
    const badCron = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'workflows:\n  - { name: backfill, cron: "0 25 * * *", steps: [{ run: "+x", vars: { start: "${BACKFILL_START}" } }] }\n',
    );
    expect(() => loadConfig({ path: badCron.path, env: {} })).toThrow(
      /workflows\[0\]\.cron: "0 25 \* \* \*"/,
    );
    // And a misspelt key beside the unset one, which went unsaid until the variable was set.
    const misspelt = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'workflows:\n  - { name: backfill, cron: "0 5 * * *", retires: 2, steps: [{ run: "+x", vars: { start: "${BACKFILL_START}" } }] }\n',
    );
    expect(() => loadConfig({ path: misspelt.path, env: {} })).toThrow(
      /workflows\[0\]: unknown key "retires" \(did you mean retries\?\)/,
    );
    const unnamed = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'workflows:\n  - { name: "${UNSET_NAME}", cron: "0 5 * * *", steps: [test] }\n',
    );
    expect(() => loadConfig({ path: unnamed.path, env: {} })).toThrow(/UNSET_NAME is referenced but not set/);
  });

  it('refuses a reference opener that is no reference it expands, which it kept as text', () => {
    // Written with % for $ here, as the linter reads "$" "{" in a string as a template's.
    const env = (text: string) => text.replaceAll('%{', '${');
    // data_dir: %{DATA_DIR (no }) made a folder named "%{DATA_DIR"; %{%{X}} and %{X:-%{Y}} left "%{Y}".
    for (const [written, shown] of [
      ['./%{DATA_DIR', '%{DATA_DIR'],
      ['./%{}', '%{}'],
      ['./%{X Y}', '%{X Y}'],
      ['%{%{X}}', '%{%{X}}'],
      ['./%{X:-%{Y}}', '%{X:-%{Y}}'],
      ['./%{X}/%{Ü}', '%{Ü}'],
    ]) {
      const { path } = write(env(`# %{IN_A_COMMENT\nserver:\n  port: 1\ndata_dir: ${written}\n`));
      expect(() => loadConfig({ path, env: { X: 'Y', Y: 'y' } }), written).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: env(
            `${path} is not valid at line 4: "${shown}" is no %{NAME} reference inlet expands; write %{NAME} or %{NAME:-default}, NAME of letters, digits and _ and no reference inside another (a value that holds "%{" as text can come from an environment variable).`,
          ),
        }),
      );
    }
    // A default may hold a $ that starts no reference; a value from the environment is not read again.
    const { path } = write(env('data_dir: ./%{D:-a$b}\nsites:\n  - id: s\n    write_key: %{KEY}\n'));
    const config = loadConfig({ path, env: { KEY: env('wk_%{NOT_A_REF') } });
    expect([config.data_dir.endsWith('/a$b'), config.sites[0]?.write_key]).toEqual([
      true,
      env('wk_%{NOT_A_REF'),
    ]);
  });

  it('names a missing environment variable', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    expect(() => expandEnv('key: ${NOPE}', {}, 'inlet.yaml')).toThrow(/NOPE is referenced but not set/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    expect(expandEnv('key: ${NOPE:-fallback}', {}, 'inlet.yaml')).toBe('key: fallback');
    // Set but empty is taken as unset; "not set" sent one who had set it looking elsewhere.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
    expect(() => expandEnv('key: ${EMPTY}', { EMPTY: '' }, 'inlet.yaml')).toThrow(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'inlet.yaml: environment variable EMPTY is set but empty, which inlet takes as not set. Give it a value, or write ${EMPTY:-default}.',
    );
    // So in a source's entry, for a command that uses the source.
    const { path } = write(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      'sources:\n  - name: crm\n    type: postgres\n    url: ${CRM_URL}\n    tables: [accounts]\n',
    );
    expect(() => loadConfig({ path, env: { CRM_URL: '' }, sourcesInUse: ['crm'] })).toThrow(
      'environment variable CRM_URL is set but empty',
    );
  });

  it("says a missing key, a wrong type or a number out of range in words, not zod's", () => {
    const database = { name: 'crm', type: 'postgres', url: 'postgres://db/app' };
    const cases: [unknown, string][] = [
      [
        { sources: [database].map(({ url: _url, ...rest }) => ({ ...rest, tables: [{ table: 'a' }] })) },
        'sources[0].url: is required; give the connection URL',
      ],
      [
        { sources: [database] },
        'sources[0].tables: is required; list the tables to copy, e.g. tables: [{ table: public.accounts }]',
      ],
      [
        { sources: [{ ...database, tables: 'accounts' }] },
        'sources[0].tables: must be a list, not the text "accounts"',
      ],
      [
        { sources: [{ name: 'files', type: 'csv', tables: [{ name: 'x' }] }] },
        'sources[0].tables[0].path: is required; give the file path or glob',
      ],
      [
        { sources: [{ ...database, tables: [{ table: 'a' }], statement_timeout_ms: 'long' }] },
        'sources[0].statement_timeout_ms: must be a number, not the text "long"',
      ],
      [
        { sources: [{ ...database, tables: [{ table: 'a', mode: 'fast' }] }] },
        'sources[0].tables[0].mode: must be "full", "incremental" or "merge", not "fast"',
      ],
      [
        { sources: [{ ...database, tables: [{ table: 'a', mode: 'merge', cursor: 'u', primary_key: 5 }] }] },
        'sources[0].tables[0].primary_key: must be text or a list, not 5',
      ],
      [
        { sources: { name: 'crm' } },
        'sources: must be a list, not a mapping (indented key: value lines); put "- " before its first key to make it the list\'s item: "- name: …"',
      ],
      // Keyed by name, as docs/scheduler.md's example of one workflow invites: the message said only
      // that it was no list.
      [
        { workflows: { nightly: { cron: '0 5 * * *', steps: ['run'] } } },
        'workflows: must be a list, not a mapping (indented key: value lines); write each as a list item that holds its name: "- name: nightly" under workflows:, with the keys of nightly under it (docs/configuration.md shows one)',
      ],
      [
        { sites: { docs: { write_key: 'wk_docs_9f3a' } } },
        'sites: must be a list, not a mapping (indented key: value lines); write each as a list item that holds its id: "- id: docs" under sites:',
      ],
      [{ sites: [{ id: 'docs' }] }, 'sites[0].write_key: is required; add write_key: with text'],
      [{ server: { port: 'x' } }, 'server.port: must be a number, not the text "x"'],
      // YAML reads write_key: 12345678 as a number: the message said only "must be text".
      [
        { sites: [{ id: 'docs', write_key: 12345678 }] },
        'sites[0].write_key: must be text, not 12345678; YAML reads it as a number: put it in quotes as written ("…") to give it as text',
      ],
      [
        { sites: [{ id: 'docs', write_key: 'wk_docs_9f3a', domains: [true] }] },
        'sites[0].domains[0]: must be text, not true; YAML reads it as true or false: put it in quotes',
      ],
      // A number or a flag in quotes, as docker-compose files quote ports: "must be a number, not
      // the text "8080"" left unsaid why 8080 is not a number.
      [
        { server: { port: '8080' } },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        'server.port: must be a number, not the text "8080"; it is in quotes, which make it text in YAML: write it without them, port: 8080 (a ${NAME} reference too: port: ${NAME}, not port: "${NAME}")',
      ],
      [
        { sites: [{ id: 'docs', write_key: 'wk_docs_9f3a', honor_dnt: 'true' }] },
        'sites[0].honor_dnt: must be true or false, not the text "true"; it is in quotes, which make it text in YAML: write it without them, honor_dnt: true',
      ],
      [
        { server: { trust_proxy: '1' } },
        'server.trust_proxy: must be true or false or a number, not the text "1"; it is in quotes, which make it text in YAML: write it without them, trust_proxy: 1',
      ],
      [
        { query: { timeout_ms: '60000' } },
        'query.timeout_ms: must be a number, not the text "60000"; it is in quotes',
      ],
      [{ loader: { threads: 0 } }, 'loader.threads: must be at least 1, not 0'],
      ['hello', '(top level): must be a mapping (indented key: value lines), not the text "hello"'],
    ];
    for (const [raw, message] of cases) {
      const thrown = (() => {
        try {
          parseConfig(raw);
        } catch (error) {
          return (error as Error).message;
        }
        return 'no error';
      })();
      expect(thrown, message).toContain(message);
      expect(thrown, message).not.toMatch(/Invalid input|Invalid option|expected \w+, received/);
    }
  });

  it('names the key meant by one misspelt, in inlet.yaml and in a workflow of it', () => {
    // 'unknown key "retrys"; check the spelling against …' left the reader to find retries there.
    const check = 'check the spelling against the configuration reference in docs/configuration.md';
    for (const [yaml, message] of [
      ['data_dri: ./data\n', `(top level): unknown key "data_dri" (did you mean data_dir?); ${check}`],
      [
        'workflows:\n  - { name: n, cron: "0 5 * * *", steps: [run], retrys: 2 }\n',
        `workflows[0]: unknown key "retrys" (did you mean retries?); ${check}`,
      ],
      ['colour: red\n', `(top level): unknown key "colour"; ${check}`],
    ])
      expect(() => loadConfig({ path: write(yaml).path, env: {}, sourcesInUse: 'all' }), yaml).toThrow(
        message,
      );
  });

  it('says a name must start with a lower-case letter, where Docs or Crm was told to start with a letter', () => {
    const lake =
      'must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 63)';
    const cases: [unknown, string][] = [
      [
        { sites: [{ id: '-docs', write_key: 'wk_docs_9f3a' }] },
        'sites[0].id: must start with a lower-case letter or digit and hold only lower-case letters, digits, - and _ (at most 64)',
      ],
      [
        { sources: [{ name: 'Crm', type: 'postgres', url: 'postgres://db/app', tables: [{ table: 'a' }] }] },
        `sources[0].name: ${lake}`,
      ],
      [
        {
          sources: [
            {
              name: 'crm',
              type: 'postgres',
              url: 'postgres://db/app',
              tables: [{ table: 'a', name: 'Plans' }],
            },
          ],
        },
        `sources[0].tables[0].name: ${lake}`,
      ],
      [
        { sources: [{ name: 'web', type: 'file', path: 'a.log', format: 'json_lines', table: 'Access' }] },
        `sources[0].table: ${lake}`,
      ],
      [
        { sources: [{ type: 'postgres', url: 'postgres://db/app', tables: [{ table: 'a' }] }] },
        'sources[0].name: is required; give it a name that starts with a lower-case letter and holds only lower-case letters, digits and _ (at most 63)',
      ],
      // A workflow's name may hold a -, which the hint for one left out did not say.
      [
        { workflows: [{ cron: '0 5 * * *', steps: ['run'] }] },
        'workflows[0].name: is required; give it a name that starts with a lower-case letter and holds only lower-case letters, digits, - and _ (at most 63)',
      ],
    ];
    for (const [raw, message] of cases) {
      const path = write(JSON.stringify(raw)).path;
      expect(() => loadConfig({ path, env: {}, sourcesInUse: 'all' }), message).toThrow(message);
    }
  });

  it("says a CSV table's type cut at its comma by YAML's { … } is to be quoted, and takes it quoted", () => {
    // docs/csv.md showed types: { Amount: DECIMAL(18,2), … }, which YAML reads as Amount: "DECIMAL(18"
    // and a column "2)" with no type: two messages that did not say why.
    const file = (types: string) =>
      write(
        `sources:\n  - name: sales\n    type: csv\n    tables:\n      - path: a.tsv\n        types: ${types}\n`,
      ).path;
    const cut = file('{ Amount: DECIMAL(18,2), PostalCode: VARCHAR }');
    expect(() => loadConfig({ path: cut, env: {}, sourcesInUse: 'all' })).toThrow(
      'sources[0].tables[0].types.Amount: reads as "DECIMAL(18": in YAML\'s { … } a comma ends the value; quote the type ("DECIMAL(18,2)")',
    );
    expect(() => loadConfig({ path: cut, env: {}, sourcesInUse: 'all' })).not.toThrow(/not empty/);
    const quoted = loadConfig({
      path: file('{ Amount: "DECIMAL(18,2)", PostalCode: VARCHAR }'),
      env: {},
      sourcesInUse: 'all',
    });
    expect(quoted.sources[0]).toMatchObject({
      tables: [{ types: { Amount: 'DECIMAL(18,2)', PostalCode: 'VARCHAR' } }],
    });
  });

  it('refuses a zone abbreviation (CST, EST, IST…) and names an IANA zone to write instead', () => {
    // CST was taken as America/Chicago, EST as a fixed -05:00 without daylight saving and IST as
    // India, while log lines refuse CST as naming no one zone.
    for (const [tz, zone] of [
      ['CST', 'America/Chicago'],
      ['EST', 'America/Panama'],
      ['PST', 'America/Los_Angeles'],
      ['ist', 'Asia/Calcutta'],
    ])
      expect(() => parseConfig({ timezone: tz }), tz).toThrow(
        `timezone: "${tz}" is a zone abbreviation, which names no one zone (it would be read as ${zone}); write an IANA name such as America/Chicago or Asia/Kolkata`,
      );
    const file = { name: 'app', type: 'file', path: '/var/log/app.log', format: 'json_lines' };
    expect(() => parseConfig({ sources: [{ ...file, timezone: 'EST' }] })).toThrow(
      /sources\[0\]\.timezone: "EST" is a zone abbreviation/,
    );
    for (const tz of ['UTC', 'GMT', 'utc', 'Etc/GMT+5', 'Etc/UTC', 'America/Chicago', 'EST5EDT', 'Japan'])
      expect(parseConfig({ timezone: tz, sources: [{ ...file, timezone: tz }] }).timezone, tz).toBe(tz);
  });

  it('names the key and the problem', () => {
    expect(() => parseConfig({ timezone: 'Mars/Base' })).toThrow(
      'timezone: "Mars/Base" is not an IANA time zone such as UTC, Europe/Berlin or Asia/Tokyo',
    );
    expect(() => parseConfig({ timezone: '' })).toThrow(
      'timezone: is empty (an unset variable?); give an IANA time zone such as UTC, Europe/Berlin or Asia/Tokyo',
    );
    expect(() => parseConfig({ server: { port: 'x' } })).toThrow(/server\.port:/);
    expect(() => parseConfig({ sites: [{ id: 'docs' }] })).toThrow(/sites\[0\]\.write_key:/);
    expect(() => parseConfig({ colour: 'red' })).toThrow(/unknown key "colour"/);
    expect(() => parseConfig({ loader: { threads: 0 } })).toThrow(/loader\.threads:/);
    // A value outside a list of choices: the choices in words, and the value given.
    const workflows = [{ name: 'n', cron: '0 5 * * *', steps: ['run'], catchup: 'sometimes' }];
    expect(() => parseConfig({ workflows })).toThrow(
      'workflows[0].catchup: must be "latest", "all" or "none", not "sometimes"',
    );
    for (const public_url of ['ftp://example.com', 'example.com/inlet', 'https://example.com/?a=1'])
      expect(() => parseConfig({ server: { public_url } }), public_url).toThrow(
        /server\.public_url: must be an http\(s\) address/,
      );
    expect(parseConfig({ server: { public_url: 'https://example.com/inlet/' } }).server.public_url).toBe(
      'https://example.com/inlet',
    );
    expect(() =>
      parseConfig({
        sites: [
          { id: 'a', write_key: 'wk_same_key' },
          { id: 'b', write_key: 'wk_same_key' },
        ],
      }),
    ).toThrow(/sites\[1\]\.write_key: used by another site/);
    // A Plausible request names its site by domain: the last site with it took every event.
    expect(() =>
      parseConfig({
        sites: [
          { id: 'a', write_key: 'wk_key_of_a', domains: ['a.example', 'docs.example'] },
          { id: 'b', write_key: 'wk_key_of_b', domains: ['docs.example'] },
        ],
      }),
    ).toThrow(
      'sites[1].domains[0]: "docs.example" is a domain of site "a" too; a domain names one site, so give it to one of them',
    );
    expect(() =>
      parseConfig({ sites: [{ id: 'a', write_key: 'wk_123456', origins: ['https://x.com/path'] }] }),
    ).toThrow(/origins\[0\]/);
    // null written bare, for pages opened from file://: YAML reads it as no value, and the message
    // said only "must be text, not empty (null)".
    const { path } = write('sites:\n  - id: a\n    write_key: wk_123456\n    origins: [null]\n');
    expect(() => loadConfig({ path, env: {} })).toThrow(
      'sites[0].origins[0]: is empty (null), as YAML reads null written bare; to allow pages opened from file:// (whose origin is null), write "null" in quotes',
    );
  });

  it('refuses a write_key longer than the collector reads, naming the key, the limit and what to do', () => {
    // It was taken, and no client could send it as writeKey or k in a body, nor in a settings URL.
    const { path } = write(
      `sites:\n  - id: docs\n    write_key: wk_docs_9f3a\n  - id: shop\n    write_key: ${'k'.repeat(201)}\n`,
    );
    expect(() => loadConfig({ path, env: {} })).toThrow(
      "sites[1].write_key: is 201 characters long, and the collector reads a write key of at most 200 (writeKey in a body, the SDKs' settings URL), so clients could not send it; give a key of 8 to 200 characters (openssl rand -hex 16 makes one of 32)",
    );
    expect(
      parseConfig({ sites: [{ id: 'docs', write_key: 'k'.repeat(200) }] }).sites[0]?.write_key,
    ).toHaveLength(200);
  });

  it('refuses sizes DuckDB cannot run with, timers Node cannot hold and absurd thread counts, naming the key', () => {
    for (const memory_limit of ['lots', '1', '10MB', '63MB'])
      expect(() => parseConfig({ query: { memory_limit } }), memory_limit).toThrow(
        /query\.memory_limit: must be/,
      );
    expect(() => parseConfig({ models: { memory_limit: '1KB' } })).toThrow(
      /models\.memory_limit: must be at least 64MB/,
    );
    expect(parseConfig({ query: { memory_limit: '512MiB' } }).query.memory_limit).toBe('512MiB');
    // DuckDB refused 19000000TB (an error inlet did not foresee) and read 17179869184GiB, 2^64 bytes,
    // as nothing: every query ran out of memory.
    for (const memory_limit of ['19000000TB', '17179869184GiB', '8193TiB'])
      expect(() => parseConfig({ query: { memory_limit } }), memory_limit).toThrow(
        'query.memory_limit: must be at most 8192TiB',
      );
    expect(() => parseConfig({ models: { memory_limit: '99999999999999TB' } })).toThrow(
      'models.memory_limit: must be at most 8192TiB',
    );
    expect(parseConfig({ query: { memory_limit: '8192TiB' } }).query.memory_limit).toBe('8192TiB');
    const tooLong = 2 ** 31;
    expect(() => parseConfig({ query: { timeout_ms: tooLong } })).toThrow(
      /query\.timeout_ms: must be at most/,
    );
    expect(() => parseConfig({ wal: { seal_after_ms: tooLong } })).toThrow(/wal\.seal_after_ms:/);
    expect(() => parseConfig({ loader: { interval_ms: tooLong } })).toThrow(/loader\.interval_ms:/);
    expect(() => parseConfig({ query: { threads: 100_000 } })).toThrow(/query\.threads:/);
    const workflow = { name: 'nightly', cron: '0 3 * * *', steps: ['run'] };
    expect(() => parseConfig({ workflows: [{ ...workflow, timeout: '1000h' }] })).toThrow(
      /workflows\[0\]\.timeout: must be at most 596h/,
    );
    // As timeout: 0 is refused: 0s, or a fraction of a ms, stopped every run at once ("the run was stopped first").
    for (const [key, value] of [
      ['timeout', '0s'],
      ['timeout', '0.0001s'],
      ['retry_backoff', '0ms'],
    ])
      expect(() => parseConfig({ workflows: [{ ...workflow, [key]: value }] }), value).toThrow(
        `workflows[0].${key}: must be more than 0 ms, such as 30s, 5m or 2h`,
      );
    expect(parseConfig({ workflows: [{ ...workflow, timeout: '1ms' }] }).workflows[0]?.timeout).toBe(1);
  });

  it('refuses a dedup window too long to be a date, which failed every query while the WAL held events', () => {
    // 9007199254740991 hours back is no date: the events view could not be built, and every query
    // answered LAKE_UNREADABLE (Invalid time value) until the loader had emptied the WAL.
    for (const dedup_window_hours of [876_001, 9_007_199_254_740_991])
      expect(() => parseConfig({ loader: { dedup_window_hours } }), String(dedup_window_hours)).toThrow(
        'loader.dedup_window_hours: must be at most 876000 (100 years)',
      );
    expect(parseConfig({ loader: { dedup_window_hours: 876_000 } }).loader.dedup_window_hours).toBe(876_000);
  });

  it('refuses an event size and a query count too large for the memory caps derived from them', () => {
    // The loader's memory cap grows with limits.event_bytes: 2e15 made one DuckDB refused, and
    // inlet start ended with "Failed to set config" (exit 5).
    for (const event_bytes of [16 * 2 ** 20 + 1, 2e15])
      expect(() => parseConfig({ limits: { event_bytes } }), String(event_bytes)).toThrow(
        'limits.event_bytes: must be at most 16777216 (16 MiB)',
      );
    expect(parseConfig({ limits: { event_bytes: 16 * 2 ** 20 } }).limits.event_bytes).toBe(16 * 2 ** 20);
    // The query engine's process cap is 512 MB for each query.max_concurrent: a huge count made a
    // cap prlimit could not read, and the warning then said to install util-linux.
    for (const max_concurrent of [1025, 1e14])
      expect(() => parseConfig({ query: { max_concurrent } }), String(max_concurrent)).toThrow(
        /query\.max_concurrent: must be at most 1024/,
      );
    expect(parseConfig({ query: { max_concurrent: 1024 } }).query.max_concurrent).toBe(1024);
  });

  it('refuses a retention too long to count back to a day, which failed every retention pass', () => {
    for (const key of ['events_days', 'logs_days', 'rejects_days'])
      expect(() => parseConfig({ retention: { [key]: 9_007_199_254_740_991 } }), key).toThrow(
        `retention.${key}: must be at most 36500 (100 years); 0 keeps every day`,
      );
    expect(parseConfig({ retention: { events_days: 36_500 } }).retention.events_days).toBe(36_500);
  });

  it('says the number to write for bytes or milliseconds written with a unit, and the unit a memory_limit needs', () => {
    // "must be a number, not the text "64MB"" left unsaid that the key takes bytes.
    for (const [raw, line] of [
      [
        { wal: { segment_bytes: '64MB' } },
        'wal.segment_bytes: must be a number, not the text "64MB"; give it in bytes: 64MB is 64000000',
      ],
      [
        { limits: { request_bytes: '500KiB' } },
        'limits.request_bytes: must be a number, not the text "500KiB"; give it in bytes: 500KiB is 512000',
      ],
      [
        { query: { timeout_ms: '1.5 h' } },
        'query.timeout_ms: must be a number, not the text "1.5 h"; give it in milliseconds: 1.5 h is 5400000',
      ],
      [{ wal: { seal_after_ms: 'soon' } }, 'wal.seal_after_ms: must be a number, not the text "soon"'],
      // And the other way round: a memory_limit of 1 was told to be put in quotes, which made no size.
      [
        { query: { memory_limit: 1 } },
        'query.memory_limit: must be a size with its unit, such as 512MB or 2GB, not the number 1',
      ],
    ] as const)
      expect(() => parseConfig(raw)).toThrow(
        expect.objectContaining({ message: `inlet.yaml is not valid:\n  ${line}` }),
      );
  });

  it("says a number past a key's bound once, in the key's own words", () => {
    expect(() => parseConfig({ server: { port: 1e23 } })).toThrow(
      /^inlet\.yaml is not valid:\n {2}server\.port: must be at most 65535, not 1e\+23$/,
    );
    // A key with no bound of its own still says zod's.
    expect(() => parseConfig({ limits: { per_ip_per_second: 1e23 } })).toThrow(
      'limits.per_ip_per_second: must be at most 9007199254740991, not 1e+23',
    );
  });

  it('refuses more sites, sources, workflows, steps, origins or domains than any configuration has, naming the key', () => {
    // Each list was unbounded: a workflow of 100,000 steps was taken, and 700,000 sites.
    const site = (i: number) => ({ id: `s${i}`, write_key: `wk_site_${i}` });
    const workflow = (steps: number) => ({
      name: 'w',
      cron: '0 3 * * *',
      steps: Array(steps).fill('sync crm'),
    });
    const lists = [
      ['sites', 10_000, { sites: Array.from({ length: 10_001 }, (_, i) => site(i)) }],
      ['sources', 1000, { sources: Array(1001).fill({ name: 'crm', type: 'nope' }) }],
      ['workflows', 1000, { workflows: Array(1001).fill(workflow(1)) }],
      ['workflows[0].steps', 1000, { workflows: [workflow(1001)] }],
      ['sites[0].origins', 1000, { sites: [{ ...site(0), origins: Array(1001).fill('*') }] }],
      ['sites[0].domains', 1000, { sites: [{ ...site(0), domains: Array(1001).fill('a.example') }] }],
    ] as const;
    for (const [key, max, raw] of lists)
      expect(() => parseConfig(raw), key).toThrow(
        new RegExp(
          `\\n  ${key.replace(/[[\]]/g, '\\$&')}: lists more than ${max} \\S+, the most inlet takes; \\w`,
        ),
      );
    expect(parseConfig({ sites: Array.from({ length: 10_000 }, (_, i) => site(i)) }).sites).toHaveLength(
      10_000,
    );
    expect(parseConfig({ workflows: [workflow(1000)] }).workflows[0]?.steps).toHaveLength(1000);
  });

  it('refuses byte sizes past what a string, a WAL segment, a disk or memory can be, naming the key', () => {
    // Each took up to 2^53: limits.request_bytes past Node's longest string refused a valid body as
    // INVALID_JSON, and a WAL segment past 2 GiB stopped inlet start with ERR_FS_FILE_TOO_LARGE.
    const bounds = [
      ['limits', 'request_bytes', 268_435_456],
      ['collector', 'worker_min_bytes', 268_435_456],
      ['wal', 'segment_bytes', 268_435_456],
      ['wal', 'max_bytes', 2 ** 50],
      ['wal', 'min_free_bytes', 2 ** 50],
      ['loader', 'id_filter_bytes', 2 ** 40],
    ] as const;
    for (const [section, key, bound] of bounds) {
      expect(() => parseConfig({ [section]: { [key]: bound + 1 } }), key).toThrow(
        `${section}.${key}: must be at most ${bound}, not ${bound + 1}`,
      );
      const parsed = parseConfig({ [section]: { [key]: bound } }) as unknown as Record<
        string,
        Record<string, number>
      >;
      expect(parsed[section]?.[key], key).toBe(bound);
    }
  });

  it('writes origins as browsers send them, and takes null for file:// pages', () => {
    // A capital or a default port would never match a browser's Origin, so every request got a 403
    // telling the user to add the origin the config already listed.
    const site = { id: 'a', write_key: 'wk_123456' };
    const origins = [
      'https://Docs.Example.com:443',
      'http://localhost:8080',
      'HTTP://x.example:80',
      'null',
      '*',
    ];
    expect(parseConfig({ sites: [{ ...site, origins }] }).sites[0]?.origins).toEqual([
      'https://docs.example.com',
      'http://localhost:8080',
      'http://x.example',
      'null',
      '*',
    ]);
  });

  it("writes domains as the collector reads a request's, without www. and in lower case", () => {
    // www.example.com matched no request: a request's www.example.com is example.com.
    const site = { id: 'a', write_key: 'wk_123456', domains: ['www.Example.com', 'Docs.example.com'] };
    expect(parseConfig({ sites: [site] }).sites[0]?.domains).toEqual(['example.com', 'docs.example.com']);
    expect(() =>
      parseConfig({ sites: [site, { id: 'b', write_key: 'wk_654321', domains: ['example.com'] }] }),
    ).toThrow('sites[1].domains[0]: "example.com" is a domain of site "a" too');
  });

  it('says a YAML merge key is not read, where it said "unknown key "<<""', () => {
    const { path } = write(
      'data_dir: ./d\nsites:\n  - &first { id: a, write_key: wk_aaaaaaaa }\n  - <<: *first\n    id: b\n',
    );
    expect(() => loadConfig({ path, env: {} })).toThrow(
      `\n  sites[1]: "<<" (a YAML merge key, <<: *anchor) is not read: inlet reads YAML 1.2, which has none; write the keys out`,
    );
  });

  it('refuses an origin no browser sends, which matched no request', () => {
    // Taken as written, each was compared with every Origin header and matched none.
    const site = { id: 'a', write_key: 'wk_123456' };
    const wildcard =
      "holds a * in its host, which matches no origin: a browser sends the page's own host; list each origin (https://docs.example.com), or give * alone for any";
    const notOrigin =
      'must be a scheme and host such as https://docs.example.com, without a path (null for file:// pages, * for any)';
    for (const [given, message] of [
      ['https://*.example.com', wildcard],
      ['https://exa mple.com', notOrigin],
      ['https://docs.example.com:99999', notOrigin],
      ['https://user@docs.example.com', notOrigin],
      // A page's address or a bare host was told only "must be a scheme and host …, without a path".
      [
        'https://Docs.example.com/',
        `is a page's address, not an origin, which has no path (not even a / at its end) and no query: write "https://docs.example.com"`,
      ],
      [
        'http://localhost:3000/app/',
        `is a page's address, not an origin, which has no path (not even a / at its end) and no query: write "http://localhost:3000"`,
      ],
      [
        'https://docs.example.com?x=1',
        `is a page's address, not an origin, which has no path (not even a / at its end) and no query: write "https://docs.example.com"`,
      ],
      [
        'docs.example.com',
        'has no scheme, which an origin starts with: write "https://docs.example.com" (or http:// for a page served without TLS)',
      ],
    ])
      expect(() => parseConfig({ sites: [{ ...site, origins: [given] }] }), given).toThrow(
        `sites[0].origins[0]: ${message}`,
      );
  });

  it('checks sources: names, duplicates and known types', () => {
    expect(() => parseConfig({ sources: [{ name: 'Bad Name', type: 'file' }] })).toThrow(
      /sources\[0\]\.name:/,
    );
    expect(() => parseConfig({ sources: [{ name: 'crm', type: 'nope' }] })).toThrow(
      /sources\[0\]\.type: "nope" is not a source type/,
    );
  });

  it("refuses a source named as one of DuckDB's own catalogs and schemas", () => {
    // A source's tables are the views <source>.<table>: main.events replaced the events view, and
    // memory, temp or system made every name of the engine ambiguous, so no query ran at all.
    for (const name of ['main', 'memory', 'temp', 'system', 'information_schema', 'pg_catalog']) {
      expect(
        () => parseConfig({ sources: [{ name, type: 'csv', tables: [{ path: 'a.csv' }] }] }),
        name,
      ).toThrow(
        `sources[0].name: "${name}" is a name DuckDB keeps for its own schemas, and a source's tables are the views ${name}.<table>; name the source otherwise`,
      );
    }
    // A file source's rows go to access_logs or app_logs, under no schema of its name.
    expect(
      parseConfig({ sources: [{ name: 'main', type: 'file', path: '/var/log/x.log', format: 'json_lines' }] })
        .sources,
    ).toHaveLength(1);
  });

  it('reports YAML syntax errors with the line', () => {
    const { path } = write('server:\n  port: [1,\n');
    expect(() => loadConfig({ path, env: {} })).toThrow(/not valid YAML at line/);
    // yaml's words were for a JavaScript caller: "Source contains multiple documents; please use
    // YAML.parseAllDocuments() at line 2, column 1:"; and each of its lines ended with a colon.
    const twice = write('data_dir: ./a\n---\ndata_dir: ./b\n');
    expect(() => loadConfig({ path: twice.path, env: {} })).toThrow(
      `${twice.path} is not valid YAML at line 2: a second YAML document starts at line 2 (after a --- line), and inlet reads one; remove the --- line, or what follows it`,
    );
    const tabbed = write('server:\n\tport: 1\n');
    expect(() => loadConfig({ path: tabbed.path, env: {} })).toThrow(
      new RegExp(
        `^${tabbed.path} is not valid YAML at line 2: Tabs are not allowed as indentation at line 2, column 1$`,
      ),
    );
  });

  it("refuses an alias with no anchor, or aliases past YAML's limit, with CONFIG_INVALID naming the file", () => {
    // A "billion laughs": each line ten aliases of the line before.
    const laughs = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 4; i++)
      laughs.push(
        `l${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    for (const [text, words] of [
      ['data_dir: *nope\n', 'Unresolved alias (the anchor must be set before the alias): nope'],
      [`${laughs.join('\n')}\n`, 'Excessive alias count'],
    ] as const) {
      const { path } = write(text);
      expect(() => loadConfig({ path, env: {} }), words).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining(`${path} is not valid YAML: ${words}`),
        }),
      );
    }
  });

  it('refuses a data_dir or project_dir holding a NUL character, which no file system takes', () => {
    // inlet query ended with "Parser Error: unterminated quoted string", as an error inlet did not
    // foresee (exit 5), and a project_dir with Node's "must be a string … without null bytes" alone.
    for (const key of ['data_dir', 'project_dir']) {
      const { path } = write(`${key}: "./a\\0b"\n`);
      expect(() => loadConfig({ path, env: {} }), key).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: `${path} is not valid:\n  ${key}: must be a directory path, and no path holds a NUL character (\\0)`,
        }),
      );
    }
  });

  it('refuses an inlet.yaml that is not UTF-8, which it read as text with U+FFFD in it', () => {
    // UTF-16 (Notepad's "Unicode") was "(top level): must be a mapping …, not the text \"��d\\u0000a…\"",
    // and a Latin-1 data_dir: ./café became the folder ./caf� without a word.
    const { path } = write('');
    writeFileSync(path, Buffer.from('\uFEFFdata_dir: ./d\n', 'utf16le'));
    expect(() => loadConfig({ path, env: {} })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: `${path} is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8.`,
      }),
    );
    writeFileSync(path, Buffer.from('server:\n  port: 1\ndata_dir: ./caf\u00e9\n', 'latin1'));
    expect(() => loadConfig({ path, env: {} })).toThrow(
      `${path} is not UTF-8 text: line 3 holds a byte UTF-8 has not (é in Latin-1 or Windows-1252, say); save it as UTF-8.`,
    );
    // UTF-8, with its byte-order mark or without, is read as before.
    writeFileSync(path, '\uFEFFdata_dir: ./café\n');
    expect(loadConfig({ path, env: {} }).data_dir.endsWith('/café')).toBe(true);
  });

  it('refuses a config past 4 MiB, where --config /dev/zero hung reading it until memory ran out', () => {
    // 64 MiB of YAML (700,000 sites) was read, for 31 s and 2.7 GB, before anything could refuse it.
    // It said to check that --config named inlet.yaml, whatever file it named, or with no --config.
    expect(() => loadConfig({ path: '/dev/zero', env: {} })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message:
          "/dev/zero holds more than 4 MiB, more than any configuration; check that --config /dev/zero names inlet's configuration file.",
      }),
    );
    // At the bound, a comment and all, it is read.
    const { dir, path } = write('');
    writeFileSync(path, `data_dir: ./d\n#${'x'.repeat(4 * 2 ** 20 - 16)}\n`);
    expect(loadConfig({ path, env: {} }).data_dir.endsWith('/d')).toBe(true);
    // The inlet.yaml read for no --config, one byte past the bound.
    writeFileSync(path, `data_dir: ./d\n#${'x'.repeat(4 * 2 ** 20 - 15)}\n`);
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(
      `${path} holds more than 4 MiB, more than any configuration; check that it is inlet's configuration file, or name that file with --config FILE.`,
    );
  });

  it('refuses a project_dir that is a file, which read as a project with no models', () => {
    const { dir, path } = write('project_dir: ./project/dbt_project.yml\n');
    mkdirSync(join(dir, 'project', 'models'), { recursive: true });
    writeFileSync(join(dir, 'project', 'dbt_project.yml'), 'name: shop\n');
    expect(() => loadConfig({ path, env: {} })).toThrow(
      `${path} is not valid:\n  project_dir: ${join(dir, 'project', 'dbt_project.yml')} is a file; give the folder that holds models/ (and dbt_project.yml, if there is one)`,
    );
    writeFileSync(path, 'project_dir: ./project\n');
    expect(loadConfig({ path, env: {} }).project_dir).toBe(join(dir, 'project'));
  });

  it('refuses a project_dir below a file, which stopped every command with a bare ENOTDIR', () => {
    const { dir, path } = write('project_dir: ./notes.txt/project\n');
    writeFileSync(join(dir, 'notes.txt'), 'x\n');
    // It was "ENOTDIR: not a directory, stat '…/notes.txt/project'", with no code and no key named.
    for (const below of ['project', 'project/shop']) {
      writeFileSync(path, `project_dir: ./notes.txt/${below}\n`);
      expect(() => loadConfig({ path, env: {} })).toThrow(
        `${path} is not valid:\n  project_dir: ${join(dir, 'notes.txt', below)} cannot be a folder, as ${join(dir, 'notes.txt')} is a file; give the folder that holds models/ (and dbt_project.yml, if there is one)`,
      );
    }
  });

  it('refuses an explicit --config that does not exist', () => {
    expect(() => loadConfig({ path: '/nonexistent/inlet.yaml', env: {} })).toThrow(/does not exist/);
  });

  it('names a --config of - and a link that loops or leads nowhere, where each "did not exist"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inlet-config-'));
    expect(() => loadConfig({ path: '-', env: {}, cwd: dir })).toThrow(
      '--config - names no file: give the path of a configuration file, such as --config ./inlet.yaml, or --config /dev/stdin to read it from standard input.',
    );
    symlinkSync('b.yaml', join(dir, 'a.yaml'));
    symlinkSync('a.yaml', join(dir, 'b.yaml'));
    symlinkSync('nothing.yaml', join(dir, 'dangling.yaml'));
    expect(() => loadConfig({ path: 'a.yaml', env: {}, cwd: dir })).toThrow(
      `Config file ${join(dir, 'a.yaml')} is a symbolic link that leads round in a loop (ELOOP); point it at the configuration file.`,
    );
    expect(() => loadConfig({ path: 'dangling.yaml', env: {}, cwd: dir })).toThrow(
      `Config file ${join(dir, 'dangling.yaml')} is a symbolic link to nothing.yaml, which does not exist; point it at the configuration file.`,
    );
    // ./inlet.yaml is optional, but a link standing there is meant as one: it ran on defaults.
    symlinkSync('inlet.yaml', join(dir, 'inlet.yaml'));
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(
      /inlet\.yaml is a symbolic link that leads round in a loop/,
    );
  });

  it('resolves relative paths in the working directory when the config is no file in a folder', () => {
    // --config /dev/null resolved data_dir next to it, as /dev/data: for root a folder in memory,
    // gone at the next boot with every event in it. A shell's <(…) is /dev/fd/63 in the same way.
    const cwd = mkdtempSync(join(tmpdir(), 'inlet-config-'));
    const empty = loadConfig({ path: '/dev/null', env: {}, cwd });
    expect([empty.data_dir, empty.project_dir]).toEqual([join(cwd, 'data'), join(cwd, 'project')]);
    expect(empty.configPath).toBe('/dev/null');
    // Sources' relative paths (a CSV table's, a log's) are resolved in the same folder.
    expect(empty.baseDir).toBe(cwd);
    // A named pipe is read whole, its paths resolved in the working directory too.
    const pipes = join(cwd, 'pipes');
    mkdirSync(pipes);
    const fifo = join(pipes, 'inlet.yaml');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 'data_dir: ./piped\\n' > '${fifo}'`]);
    const piped = loadConfig({ path: fifo, env: {}, cwd });
    writer.kill();
    expect(piped.data_dir).toBe(join(cwd, 'piped'));
    // A file handed over open (inlet start --config /dev/stdin < inlet.yaml): a regular file, but
    // named under /dev/fd or /proc, no folder of the user's.
    const { path } = write('data_dir: ./handed\n');
    const fd = openSync(path, 'r');
    try {
      expect(loadConfig({ path: `/proc/self/fd/${fd}`, env: {}, cwd }).data_dir).toBe(join(cwd, 'handed'));
    } finally {
      closeSync(fd);
    }
  });

  it('reads ~ in data_dir, project_dir and --config as the home directory, as a shell would', () => {
    // ~/inlet-data made a folder named ~ beside inlet.yaml, and the data went there.
    const { path } = write('data_dir: ~/inlet-data\nproject_dir: "~"\n');
    const config = loadConfig({ path, env: {} });
    expect([config.data_dir, config.project_dir]).toEqual([join(homedir(), 'inlet-data'), homedir()]);
    // --config=~/… as well, which a shell does not expand after an =: "Config file /cwd/~/… does not exist".
    expect(loadConfig({ path: `~/${relative(homedir(), path)}`, env: {}, cwd: tmpdir() }).configPath).toBe(
      path,
    );
    const other = write('data_dir: ~inlet/data\n');
    expect(() => loadConfig({ path: other.path, env: {} })).toThrow(
      "data_dir: ~inlet/data names another user's home, which inlet does not look up; write the absolute path",
    );
  });
});
