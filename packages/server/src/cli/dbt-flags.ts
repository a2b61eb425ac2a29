// dbt's command-line flags that inlet run and inlet test have no use for, and what to do instead:
// a dbt user types them by habit, and Node's "Unknown option" (with advice about positional
// arguments) said neither why nor what to do.

// file is the configuration file read (configFileName): prod.yaml when --config named it, where
// the advice said inlet.yaml whatever file was read.
const insteadOf = (file: string): Record<string, string> => ({
  '--target': `inlet has no profiles or targets: it builds in data_dir, which you set in ${file}; for another, pass --config with another configuration file`,
  '-t': `inlet has no profiles or targets: it builds in data_dir, which you set in ${file}; for another, pass --config with another configuration file`,
  '--profile': `inlet has no profiles: it builds in data_dir, which you set in ${file}`,
  '--profiles-dir': `inlet has no profiles: it builds in data_dir, which you set in ${file}`,
  '--project-dir': `the project folder is project_dir (by default project/ beside the configuration file), which you set in ${file}; for another, pass --config with another configuration file`,
  '--threads': `inlet builds models one at a time, each with query.threads as DuckDB's threads; set it in ${file}`,
  '--models': "it is dbt's older name for --select; use --select (or -s)",
  '-m': "it is dbt's older name for --select; use --select (or -s)",
  '--fail-fast': 'a failing model already stops the models downstream of it, and only those; remove it',
  '-x': 'a failing model already stops the models downstream of it, and only those; remove it',
  '--selector': `inlet has no YAML selectors (selectors.yml): give the selectors themselves (inlet run a b+ --exclude c), or keep a selection as a workflow's step in ${file}`,
  '--resource-type':
    "inlet ls lists the models and seeds that inlet run builds, and with a source: selector (inlet ls source:'*') the source tables it names; inlet catalog lists every table",
  '--output':
    'inlet ls prints a name a line to a terminal and a JSON object a line (name, kind, path) to a pipe: pipe it (inlet ls | cat) for JSON',
  '--output-keys':
    'inlet ls gives name, kind and path to a pipe (inlet ls | cat); take the keys you need from that JSON',
  '--defer': 'inlet has no state to compare with; select the models to build by name',
  '--state': 'inlet has no state to compare with; select the models to build by name',
  '--store-failures':
    "a failing test's result already carries a sample of the rows that failed it; remove it",
  '--warn-error': 'inlet has no warnings that a run could fail on; remove it',
});

/**
 * What to say for a dbt flag that parseArgs refused, or undefined when the option is no dbt flag;
 * configFile is the configuration file read, which the advice names.
 */
export function dbtFlagMessage(error: Error, configFile: string): string | undefined {
  const option = /^Unknown option '(-[^']*)'/.exec(error.message)?.[1];
  const instead = option === undefined ? undefined : insteadOf(configFile)[option];
  return instead && `${option} is one of dbt's options, which inlet does not take: ${instead}.`;
}
