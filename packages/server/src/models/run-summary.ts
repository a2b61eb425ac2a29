import type { DataTestResult } from './data-tests.ts';
import type { ModelResult } from './node-builder.ts';

const MARK: Record<ModelResult['status'], string> = {
  success: 'ok',
  failed: 'FAILED',
  test_failed: 'TEST FAILED',
  skipped: 'skipped',
};

/** 1 row, 2 rows, 12,345 rows. */
const count = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

/** One line per model for logs and the terminal: status, name, how it was written, rows, time, why. */
export function summarizeModel(result: ModelResult): string {
  const parts = [MARK[result.status].padEnd(11), result.name];
  if (result.status === 'success') {
    parts.push(
      `(${result.mode === 'partitions' ? count(result.partitions?.length ?? 0, 'partition') : result.mode})`,
    );
    if (result.rows !== undefined) parts.push(count(result.rows, 'row'));
    const tests = result.tests.length;
    if (tests > 0) parts.push(`${count(tests, 'test')} passed`);
  }
  parts.push(`${result.ms} ms`);
  if (result.message) parts.push(`— ${result.message}`);
  return parts.join(' ');
}

/** One line per data test. */
export function summarizeTest(result: DataTestResult): string {
  const head = `${result.status === 'pass' ? 'pass' : result.status === 'fail' ? 'FAIL' : 'ERROR'}  ${result.model ? `${result.model}: ` : ''}${result.name}`;
  if (result.status === 'fail')
    return `${head} — ${result.failures} row${result.failures === 1 ? '' : 's'}, e.g. ${JSON.stringify(result.sample[0] ?? {})}`;
  return result.status === 'error' ? `${head} — ${result.message}` : head;
}
