import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../test/helpers.ts';
import { ExitCode } from './exit-codes.ts';

const temp = tempDir();
const configPath = join(temp.dir, 'inlet.yaml');
writeFileSync(configPath, 'data_dir: ./data\n');
afterAll(() => temp.cleanup());

const inlet = (...argv: string[]) => runCli(argv);

describe('inlet command line', () => {
  it('takes --config before the command as well as after it', async () => {
    for (const argv of [
      ['--config', configPath, 'query', 'SELECT 41 + 1 AS n'],
      [`--config=${configPath}`, 'query', 'SELECT 41 + 1 AS n'],
      ['-c', configPath, 'query', 'SELECT 41 + 1 AS n'],
      ['query', 'SELECT 41 + 1 AS n', '--config', configPath],
    ]) {
      const run = await inlet(...argv);
      expect([run.code, run.out.trim(), run.err], argv.join(' ')).toEqual([ExitCode.OK, '{"n":42}', '']);
    }
  });

  it('answers an option without a usable value with a usage error, not a stack trace', async () => {
    const negative = await inlet('query', 'SELECT 1', '--max-rows', '-5', '--config', configPath);
    expect(negative.code).toBe(ExitCode.USAGE);
    expect(negative.err).toContain("'--max-rows");
    const missing = await inlet('query', 'SELECT 1', '--config', configPath, '--format');
    expect(missing.code).toBe(ExitCode.USAGE);
    expect(missing.err).toContain('--format');
    for (const command of ['start', 'demo']) {
      const port = await inlet(command, '--port', '70000', '--config', configPath);
      expect([command, port.code]).toEqual([command, ExitCode.USAGE]);
      expect(port.err).toContain('--port 70000 is not a port number; give one from 0 to 65535.');
    }
  });
});
