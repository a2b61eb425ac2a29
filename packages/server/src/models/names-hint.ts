/** How many of the project's names a message lists when none is close to the one given; more are counted. */
const FEW = 10;

/**
 * What a message saying a name is no model or seed ends with: "; did you mean a, b?" for the names
 * close to it, else the project's names when they are few, else how many there are and how to list
 * them. Without it a ref or selector naming nothing close left the user to look the names up.
 */
export function modelNamesHint(close: readonly string[], all: readonly string[], other = false): string {
  if (close.length > 0) return `; did you mean ${close.join(', ')}?`;
  const some = other ? 'other ' : '';
  if (all.length === 0) return `; the project has no ${some}model or seed.`;
  if (all.length > FEW) return `; inlet ls lists the project's ${all.length} ${some}models and seeds.`;
  return `; the project's ${some}models and seeds are ${[...all].sort().join(', ')}.`;
}
