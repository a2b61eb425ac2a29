import { describe, expect, it } from 'vitest';
import { capturingLogger, configIn, tempDir } from '../../test/helpers.ts';
import { loadConfig } from '../config/index.ts';
import { warnLeftOutWorkflows } from './workflows-left-out.ts';

describe('workflows left out', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('warns of a workflow an unset ${VAR} leaves out, naming it and the variable, but the one started', () => {
    const temp = tempDir('inlet-left-out-');
    const path = configIn(
      temp.dir,
      'workflows:\n' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        '  - { name: backfill, cron: "0 5 * * *", steps: [{ run: "+x", vars: { start: "${BACKFILL_START}" } }] }\n',
    );
    try {
      const config = loadConfig({ path, env: {} });
      const { logger, lines } = capturingLogger();
      warnLeftOutWorkflows(config, logger);
      warnLeftOutWorkflows(config, logger, 'backfill');
      expect(lines.map(({ level, msg }) => [level, msg])).toEqual([
        [
          40,
          `workflow "backfill" is left out, as the environment variable BACKFILL_START it uses is not set: it does not run on its cron, nor can it be started; set it (export BACKFILL_START=…) or write \${BACKFILL_START:-default} in ${path} for it to run`,
        ],
      ]);
    } finally {
      temp.cleanup();
    }
  });
});
