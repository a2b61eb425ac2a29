/**
 * The sources whose ${VAR} references a command needs set: inlet sync its own. Every other command
 * leaves out a source whose variable is unset: inlet start, demo and runs start (log tails, syncs on
 * schedules) stopped whole for the URL of one sync, collector included; they warn of it, and a
 * workflow's sync step of it fails naming the variable. A database URL kept in the environment of
 * the syncing job only stops nothing else.
 */
export function sourcesInUse(command: string, args: string[]): string[] {
  return command === 'sync' ? args.filter((arg) => !arg.startsWith('-')).slice(0, 1) : [];
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
