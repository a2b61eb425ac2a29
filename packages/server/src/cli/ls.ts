import { relative } from 'node:path';
import type { TableKind } from '../catalog/index.ts';
import { nothingPickedNote, openProject, selectNodes, sourceListing } from '../models/index.ts';
import { type Command, commandArgs } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { emptySelectorProblem, selectOption, selectorsOf } from './selectors.ts';
import { parseVars, varsHelp, varsOption } from './vars-option.ts';

export const lsHelp = `inlet ls [selector…] [--exclude …] [--vars …]   (also inlet list)
  Lists the models and seeds the selectors pick, in build order, as dbt ls does: what inlet run
  with the same selectors would build, without building it; source:crm (and source:crm+) lists the
  source's tables first, as source:<project>.crm.customers. A terminal gets one name a line, a
  pipe one JSON object a line (name, kind: model, seed or source_table, as inlet catalog says, and
  path in the project; null for a built-in mart or a source's table).
  dbt's --select / -s and --exclude take selectors too, as for inlet run.
  ${varsHelp}`;

/** A source's table's kind, as the catalog and lineage give it (source is the source itself, source:crm). */
const SOURCE_TABLE: TableKind = 'source_table';

/** inlet ls: the nodes a selection picks, from the project alone (nothing is built or read). */
export const lsCommand: Command = async (args, config, _logger, output) => {
  const { values, tokens } = commandArgs(args, { ...selectOption, ...varsOption });
  const given = parseVars(values.vars);
  if ('error' in given) {
    output.err(`${given.error}\n${lsHelp}\n`);
    return ExitCode.USAGE;
  }
  const empty = emptySelectorProblem(tokens);
  if (empty) {
    output.err(`${empty}\n${lsHelp}\n`);
    return ExitCode.USAGE;
  }
  const { project, graph } = openProject(config, given.vars);
  for (const warning of project.warnings) output.err(`Warning: ${warning}\n`);
  const { selectors, exclude } = selectorsOf(tokens);
  // As dbt ls, source: selectors list the source tables they name, before the models (upstream of all).
  const sources = sourceListing(graph, selectors, exclude);
  const prefix = graph.projectName ? `${graph.projectName}.` : '';
  for (const name of sources.tables)
    output.out(
      output.isTty
        ? `source:${prefix}${name}\n`
        : `${JSON.stringify({ name, kind: SOURCE_TABLE, path: null })}\n`,
    );
  const picked = sources.models === undefined ? [] : selectNodes(graph, sources.models, sources.exclude);
  for (const name of picked) {
    const node = project.nodes.get(name);
    const path = node?.origin === 'project' ? relative(config.project_dir, node.path) : null;
    output.out(output.isTty ? `${name}\n` : `${JSON.stringify({ name, kind: node?.kind, path })}\n`);
  }
  const nothing = nothingPickedNote('ls', { selectors, exclude });
  if (nothing && picked.length === 0 && sources.tables.length === 0) output.err(`${nothing}\n`);
  return ExitCode.OK;
};
