import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli/exit-codes.ts';
import { API_TOKEN, collectingStatuses, jsonLines, tempDir } from './helpers.ts';
import {
  type InletProcess,
  inletConfigFile,
  spawnInlet,
  spawnStartedInlet,
  stopInlet,
} from './inlet-process.ts';
import { within } from './within.ts';

// A database source whose url: ${VAR} was unset kept inlet start from starting at all, collector
// included: the URL of an optional sync stopped event collection.
const temp = tempDir('inlet-unset-source-');
const VARIABLE = 'QA_UNSET_SOURCE_URL';
const env: NodeJS.ProcessEnv = { ...process.env, INLET_API_TOKEN: API_TOKEN, INLET_LOG_LEVEL: 'warn' };
delete env[VARIABLE];
let config = '';
let url = '';
let inlet: InletProcess;

beforeAll(async () => {
  mkdirSync(join(temp.dir, 'exports'), { recursive: true });
  writeFileSync(join(temp.dir, 'exports', 'plans.csv'), 'id,name\n1,pro\n');
  ({ config, url } = await inletConfigFile(
    temp.dir,
    [
      'models: { builtin: false }',
      'sources:',
      '  - { name: sales, type: csv, tables: [{ path: exports/plans.csv }] }',
      '  - name: crm',
      '    type: postgres',
      `    url: \${${VARIABLE}}`,
      '    tables: [{ table: public.plans }]',
      'workflows:',
      // Retried, it would wait 30 s and then 60 s for an error every attempt meets again.
      '  - { name: nightly, cron: "0 5 * * *", retries: 2, retry_backoff: 30s, steps: [sync crm] }',
      '  - { name: imports, cron: "0 6 * * *", steps: [sync sales] }',
      '',
    ].join('\n'),
  ));
  inlet = await spawnStartedInlet(config, url, env);
}, 90_000);
afterAll(async () => {
  await stopInlet(inlet);
  temp.cleanup();
});

describe('inlet start with a source whose url: ${VAR} is not set', () => {
  it('starts and collects, warning of the source and the variable to set', async () => {
    expect(await collectingStatuses(url, 'unset-source-1')).toEqual({ health: 200, batch: 200 });
    // Logged (as JSON, on stdout) before the server listened; read from the pipe once it is there.
    await within(30_000, 'the warning in the log', inlet.waitForOutput('is not synced'));
    expect(jsonLines<{ level: number; msg: string }>(inlet.out)).toContainEqual(
      expect.objectContaining({
        level: 40,
        source: 'crm',
        variable: VARIABLE,
        msg: `source "crm" is not synced: inlet.yaml leaves it out, as the environment variable ${VARIABLE} in its entry is not set; set ${VARIABLE} (export ${VARIABLE}=…) and restart inlet for it to sync`,
      }),
    );
  });

  it('fails the run of a workflow that syncs it, naming the variable, and runs the others', async () => {
    const nightly = spawnInlet(['runs', 'start', 'nightly', '--format', 'json', '--config', config], env);
    expect(await within(60_000, 'inlet runs start nightly to exit', nightly.exit)).toBe(ExitCode.FAILURE);
    expect(jsonLines(nightly.out)[0]).toMatchObject({
      workflow: 'nightly',
      status: 'failed',
      error: `sync crm: inlet.yaml leaves it out, as the environment variable ${VARIABLE} in its entry is not set; set ${VARIABLE} (export ${VARIABLE}=…) in the environment of inlet start (and restart it) or of inlet runs start, for it to sync. (not retried: CONFIG_INVALID is an error in the configuration, which every attempt would meet again; fix it, then run inlet runs start nightly)`,
    });
    const imports = spawnInlet(['runs', 'start', 'imports', '--format', 'json', '--config', config], env);
    expect(await within(60_000, 'inlet runs start imports to exit', imports.exit)).toBe(ExitCode.OK);
    expect(jsonLines(imports.out)[0]).toMatchObject({ workflow: 'imports', status: 'success' });
    // The source that needs it refuses as before, naming it.
    const sync = spawnInlet(['sync', 'crm', '--config', config], env);
    expect(await within(60_000, 'inlet sync crm to exit', sync.exit)).toBe(ExitCode.CONFIG);
    expect(sync.err).toBe(
      `CONFIG_INVALID: ${config}: environment variable ${VARIABLE} is referenced but not set. Set it, or write \${${VARIABLE}:-default}.\n`,
    );
  });
});
