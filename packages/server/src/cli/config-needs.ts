/**
 * The sources whose ${VAR} references a command needs set. inlet start (log tails, scheduled
 * syncs), demo and runs start (a workflow's sync steps) use them all; inlet sync its own; the
 * commands that read the lake or the run history none, so a database URL kept in the environment
 * of the syncing job only does not stop them.
 */
export function sourcesInUse(command: string, args: string[]): 'all' | string[] {
  if (command === 'sync') return args.filter((arg) => !arg.startsWith('-')).slice(0, 1);
  if (command === 'runs') return args[0] === 'start' ? 'all' : [];
  return ['query', 'catalog', 'run', 'test', 'ls', 'list', 'docs'].includes(command) ? [] : 'all';
}

/**
 * Whether a command reads the project, whose folder project_dir must then name: inlet query, sync
 * and runs (but runs start) do not, inlet demo makes it, and a collector or loader of its own (inlet start --role collector)
 * may run where the project is not.
 */
export function readsProject(command: string, args: string[]): boolean {
  // inlet runs lists and shows the run history alone: refused for a project_dir that names no
  // folder, it hid the runs that would say what went wrong. inlet runs start runs a workflow's steps.
  if (command === 'runs') return args[0] === 'start';
  if (command !== 'start') return ['run', 'test', 'ls', 'list', 'catalog', 'docs'].includes(command);
  const roles = args
    .flatMap((arg, i) => (arg.startsWith('--role=') ? [arg.slice(7)] : args[i - 1] === '--role' ? [arg] : []))
    .flatMap((value) => value.split(',').map((role) => role.trim()));
  return roles.length === 0 || roles.some((role) => role === 'web' || role === 'scheduler');
}
