import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedOutput, tempDir, withSalesSynced } from '../../test/helpers.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { createSilentLogger } from '../log/index.ts';
import { docsCommand } from './docs.ts';
import { ExitCode } from './exit-codes.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('inlet docs check', () => {
  it("says a column documented in sources: that a source's table lacks is not in its table, not in a mart", async () => {
    // The summary said "1 documented column is not in its mart" of sales.accounts, a source's table.
    const config = await withSalesSynced(temp.dir, { project_dir: join(temp.dir, 'project') });
    writeProjectFile(
      config.project_dir,
      'models/sources.yml',
      'version: 2\nsources:\n  - name: sales\n    tables:\n      - name: accounts\n        columns:\n          - { name: planx, description: A typo. }\n',
    );
    const captured = capturedOutput();
    expect(await docsCommand(['check'], config, createSilentLogger(), captured.output)).toBe(ExitCode.OK);
    expect(captured.out).toBe('{"table":"sales.accounts","column":"planx","problem":"not_a_column"}\n');
    expect(captured.err).toBe(
      "1 documented column is not in its table; fix the name under columns: (the model's YAML, or the table's entry in sources:) or remove it.\n",
    );
  });
});
