import { linkedFileWarning } from '../lake/index.ts';
import type { SourceContext } from './types.ts';

/** Names each symbolic link among a table's files, which its readers leave out (linkedFileWarning). */
export function warnLinkedFiles(context: Pick<SourceContext, 'logger' | 'warnOnce'>, links: string[]): void {
  for (const link of links) {
    const message = linkedFileWarning(link);
    if (context.warnOnce) context.warnOnce({ path: link }, message);
    else context.logger.warn({ path: link }, message);
  }
}
