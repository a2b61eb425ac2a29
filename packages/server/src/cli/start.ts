import { startInlet } from '../app.ts';
import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { ExitCode } from './exit-codes.ts';

export const startHelp = `inlet start [--config inlet.yaml]
  Runs the collector, the loader and the API in one process until SIGINT or SIGTERM.`;

/** Resolves when the process has been asked to stop (SIGINT or SIGTERM). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function startCommand(config: InletConfig, logger: Logger): Promise<ExitCode> {
  const inlet = await startInlet({ config, logger });
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping; acknowledged events are in the WAL and load on the next start');
  await inlet.close();
  return ExitCode.OK;
}
