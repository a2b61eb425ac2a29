import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedOutput, tempDir, testConfig } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { catalogCommand } from '../cli/catalog.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { runModels } from '../models/index.ts';

const temp = tempDir();
const logger = createSilentLogger();
afterAll(() => temp.cleanup());

describe('a view no model defines any more', () => {
  it("is listed as a view, with - for its size as docs/catalog.md says of views, not an empty table's 0 B", async () => {
    const config = testConfig(join(temp.dir, 'data'), {
      project_dir: join(temp.dir, 'project'),
      models: { builtin: false },
    });
    await writeEvents(dataLayout(config.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    writeProjectFile(
      config.project_dir,
      'models/logins.sql',
      '/*---\nmaterialized: view\n---*/\nSELECT name FROM events',
    );
    expect((await runModels({ config, logger, selectors: ['logins'] })).ok).toBe(true);
    const shown = async (...args: string[]) => {
      const captured = capturedOutput();
      expect(await catalogCommand(args, config, logger, captured.output)).toBe(0);
      return captured.out;
    };
    const built = await shown('logins', '--format', 'table');
    rmSync(join(config.project_dir, 'models', 'logins.sql'));
    // Its mart stays (docs/models.md): the lake still has the view, which is all the catalog shows.
    expect((await shown('logins', '--format', 'table')).split('\n').slice(0, 3)).toEqual([
      'logins (model, view)',
      '  (no description)',
      built.split('\n')[2],
    ]);
    expect(built.split('\n')[2]).toMatch(/^ {2}rows - · - · partitions - · updated /);
    const listed = (await shown('--format', 'table')).split('\n').find((line) => line.startsWith('logins '));
    expect(listed?.split('│').map((cell) => cell.trim())).toEqual([
      'logins',
      'model',
      'view',
      '-',
      '-',
      '-',
      expect.stringMatching(/^\d{4}-/),
      '-',
      '-',
    ]);
  });
});
