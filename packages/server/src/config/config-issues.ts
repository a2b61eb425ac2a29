import type { z } from 'zod';
import { describeIssue } from './issue-message.ts';
import { configSchema } from './schema.ts';

/**
 * zod's .int() bound, a safe integer: beside a key's own bound it made two lines for one value
 * (server.port: 1e23 was "at most 9007199254740991", then "at most 65535").
 */
function isSafeIntegerBound(issue: z.core.$ZodIssue, issues: z.core.$ZodIssue[]): boolean {
  if (issue.code !== 'too_big' || Number(issue.maximum) !== Number.MAX_SAFE_INTEGER) return false;
  const at = issue.path.join('.');
  return issues.some((other) => other !== issue && other.path.join('.') === at);
}

/** The message of a config file's schema issues, the first five of them. */
export function describeIssues(issues: z.core.$ZodIssue[], file: string, raw: unknown): string {
  const shown = issues.filter((issue) => !isSafeIntegerBound(issue, issues));
  const lines = shown.slice(0, 5).map((issue) => describeIssue(issue, raw, '', 'brackets', configSchema));
  return `${file} is not valid:\n  ${lines.join('\n  ')}`;
}
