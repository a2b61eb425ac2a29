/**
 * Why a source is left out (loadConfig's sourcesLeftOut) and what to set, as messages say it: "for
 * an unset variable; set it" named no variable, and "set it" read as setting the source.
 */
export function leftOutSource(file: string, variable: string | undefined): { why: string; set: string } {
  return {
    why: `${file} leaves it out, as ${variable === undefined ? 'an environment variable' : `the environment variable ${variable}`} in its entry is not set`,
    set: variable === undefined ? 'set that variable' : `set ${variable} (export ${variable}=…)`,
  };
}
