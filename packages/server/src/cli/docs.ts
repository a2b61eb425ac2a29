import { openCatalog } from './catalog-open.ts';
import { beyondUsage, type Command, commandArgs } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { varsHelp, varsOption } from './vars-option.ts';

export const docsHelp = `inlet docs check [--vars '{name: value}']
  Lists marts and mart columns that have no description (in the model's YAML, or inherited
  from the same column upstream), columns the YAML documents that the mart does not have, and
  marts no model defines any more; a model not built yet by the columns its SQL outputs. A lint:
  it exits 0 whatever it finds, and 1 only when the project cannot be read.
  ${varsHelp}`;

/** inlet docs check: what the catalog cannot describe yet. */
export const docsCommand: Command = async (args, config, logger, output) => {
  const { values, positionals } = commandArgs(args, varsOption);
  const catalog = openCatalog(
    {
      vars: values.vars,
      usable: positionals.length === 1 && positionals[0] === 'check',
      // inlet docs foo and inlet docs check foo printed the usage alone.
      why:
        positionals[0] !== 'check'
          ? `inlet docs has one command, inlet docs check${positionals[0] === undefined ? '' : `, not inlet docs ${positionals[0]}`}.\n`
          : positionals.length > 1
            ? beyondUsage('docs', 'nothing after check', positionals.slice(1))
            : undefined,
      help: docsHelp,
    },
    config,
    logger,
    output,
  );
  if (!catalog) return ExitCode.USAGE;
  try {
    const gaps = await catalog.docsCheck();
    for (const gap of gaps)
      output.out(
        !output.isTty
          ? `${JSON.stringify(gap)}\n`
          : gap.problem === 'no_model'
            ? `${gap.table}: no model defines it any more (renamed or removed); delete lake/marts/${gap.table}/ once nothing reads it\n`
            : gap.problem === 'not_a_column'
              ? `${gap.table}.${gap.column}: documented, but ${gap.table} has no such column\n`
              : `${gap.column ? `${gap.table}.${gap.column}: column` : `${gap.table}: table`} has no description\n`,
      );
    const missing = gaps.filter((gap) => gap.problem === undefined).length;
    const strays = gaps.filter((gap) => gap.problem === 'not_a_column').length;
    const orphans = gaps.filter((gap) => gap.problem === 'no_model').length;
    output.err(
      [
        gaps.length === 0 ? 'Every mart and column has a description.' : '',
        missing > 0
          ? `${missing} missing description${missing === 1 ? '' : 's'}; add them to the models' YAML (description:, columns:).`
          : '',
        strays > 0
          ? // A source's table, documented in a properties file's sources:, is no mart.
            `${strays} documented column${strays === 1 ? ' is' : 's are'} not in ${strays === 1 ? 'its table' : 'their tables'}; fix the name${strays === 1 ? '' : 's'} under columns: (the model's YAML, or the table's entry in sources:) or remove ${strays === 1 ? 'it' : 'them'}.`
          : '',
        orphans > 0
          ? `${orphans} mart${orphans === 1 ? '' : 's'} no model defines any more; delete ${orphans === 1 ? 'its folder' : 'their folders'} under lake/marts/ once nothing reads ${orphans === 1 ? 'it' : 'them'}.`
          : '',
      ]
        .filter(Boolean)
        .map((line) => `${line}\n`)
        .join(''),
    );
    return ExitCode.OK;
  } finally {
    catalog.close();
  }
};
