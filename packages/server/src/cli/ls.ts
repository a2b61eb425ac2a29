import { relative } from 'node:path';
import { openProject, selectNodes } from '../models/index.ts';
import { type Command, commandArgs } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { selectOption, selectorsOf } from './selectors.ts';
import { parseVars, varsHelp, varsOption } from './vars-option.ts';

export const lsHelp = `inlet ls [selector…] [--exclude …] [--vars …]   (also inlet list)
  Lists the models and seeds the selectors pick, in build order, as dbt ls does: what inlet run
  with the same selectors would build, without building it. A terminal gets one name a line, a
  pipe one JSON object a line (name, kind, and path in the project; null for a built-in mart).
  ${varsHelp}`;

/** inlet ls: the nodes a selection picks, from the project alone (nothing is built or read). */
export const lsCommand: Command = async (args, config, _logger, output) => {
  const { values, tokens } = commandArgs(args, { ...selectOption, ...varsOption });
  const given = parseVars(values.vars);
  if ('error' in given) {
    output.err(`${given.error}\n${lsHelp}\n`);
    return ExitCode.USAGE;
  }
  const { project, graph } = openProject(config, given.vars);
  for (const warning of project.warnings) output.err(`Warning: ${warning}\n`);
  const { selectors, exclude } = selectorsOf(tokens);
  for (const name of selectNodes(graph, selectors, exclude)) {
    const node = project.nodes.get(name);
    const path = node?.origin === 'project' ? relative(config.project_dir, node.path) : null;
    output.out(output.isTty ? `${name}\n` : `${JSON.stringify({ name, kind: node?.kind, path })}\n`);
  }
  return ExitCode.OK;
};
