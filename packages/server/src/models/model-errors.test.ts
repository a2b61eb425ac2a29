import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import type { InletConfig } from '../config/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { runModels } from './index.ts';

const temp = tempDir();
let config: InletConfig;
const project = (path: string, text: string) => writeProjectFile(config.project_dir, path, text);
const file = (name: string) => join(config.project_dir, 'models', `${name}.sql`);

/** The failed model's message, after a run of the whole project. */
async function messageOf(name: string): Promise<string> {
  const result = await runModels({ config, logger: createSilentLogger() });
  const model = result.models.find((m) => m.name === name);
  expect(model?.status).toBe('failed');
  return model?.message ?? '';
}

/** The column of the caret under DuckDB's LINE quote, and the column of what in that quote. */
function caret(message: string, what: string): { at: number; expected: number } {
  const lines = message.split('\n');
  const quote = lines.findIndex((line) => line.startsWith('LINE '));
  return { at: lines[quote + 1]?.indexOf('^') ?? -1, expected: lines[quote]?.indexOf(what) ?? -2 };
}

beforeAll(async () => {
  config = testConfig(join(temp.dir, 'data'), {
    project_dir: join(temp.dir, 'project'),
    models: { builtin: false },
  });
  await writeEvents(dataLayout(config.data_dir), [
    { ts: '2026-10-01T10:00:00Z', name: 'report_created', user_id: 'u1' },
  ]);
  project('models/users.sql', 'SELECT DISTINCT user_id FROM events');
});
afterAll(() => temp.cleanup());

describe("DuckDB's error in a model's SQL", () => {
  it("quotes the model's own first line, with the file and the caret under what failed, not inlet's COPY around it", async () => {
    project('models/bad_cast.sql', "SELECT 'abc'::INT AS n FROM events");
    const message = await messageOf('bad_cast');
    expect(message).not.toContain('COPY');
    expect(message).toBe(
      `${file('bad_cast')} line 1: Conversion Error: Could not convert string 'abc' to INT32\n` +
        "LINE 1: SELECT 'abc'::INT AS n FROM events\n" +
        '                    ^',
    );
    project('models/bad_column.sql', 'SELECT nosuch FROM events');
    const binder = await messageOf('bad_column');
    expect(binder).toMatch(
      new RegExp(`^${file('bad_column')} line 1: Binder Error: Referenced column "nosuch" not found`),
    );
    expect(binder).toContain('\nLINE 1: SELECT nosuch FROM events\n');
    const { at, expected } = caret(binder, 'nosuch');
    expect(at).toBe(expected);
  });

  it("names the file's line under front matter, an if-block and a ref() over three lines", async () => {
    project(
      'models/deep.sql',
      [
        '/*---',
        'materialized: table',
        '---*/',
        '{% if is_incremental() %}',
        'SELECT 1 AS n',
        '{% else %}',
        'SELECT user_id,',
        '  nosuch AS n',
        "FROM {{ ref(\n  'users'\n) }}",
        '{% endif %}',
      ].join('\n'),
    );
    const message = await messageOf('deep');
    expect(message).toMatch(new RegExp(`^${file('deep')} line 8: Binder Error: `));
    expect(message).toContain('\nLINE 8:   nosuch AS n\n');
    const { at, expected } = caret(message, 'nosuch');
    expect(at).toBe(expected);
  });
});
