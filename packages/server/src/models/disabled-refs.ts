import { InletError } from '../errors/index.ts';
import { templateRefs } from './model-template.ts';
import type { DisabledModel, ProjectNode, SingularTest } from './project-node.ts';

/** Something that reads models by name: a model, one of its data tests, or a test under tests/. */
interface ReferenceReader {
  name: string;
  path: string;
  refs: string[];
  /** What to do instead of enabling the model read. */
  instead: string;
  /** How it names a model, when not by ref() (a relationships test's to:). */
  mention?: (ref: string) => string;
}

/**
 * A model's data tests that read other models: each relationships test (its to:) and each sql:
 * test (its ref()s). A test of a model switched off would read a table left from an earlier run.
 */
function dataTestReaders(node: ProjectNode): ReferenceReader[] {
  const path = node.configFile ?? node.path;
  const relationships = Object.entries(node.config.columns).flatMap(([column, entry]) =>
    typeof entry === 'string'
      ? []
      : entry.tests.flatMap((test) =>
          typeof test === 'object' && 'relationships' in test
            ? [
                {
                  name: `${node.name}'s relationships test on ${column}`,
                  path,
                  refs: [test.relationships.to],
                  instead: 'remove the test',
                  mention: (ref: string) => `to: ${ref}`,
                },
              ]
            : [],
        ),
  );
  const sqlTests = node.config.tests.flatMap((test, i) =>
    'sql' in test
      ? [
          {
            name: `${node.name}'s test ${test.name ?? `tests[${i}]`}`,
            path,
            refs: templateRefs(test.sql),
            instead: 'remove the test',
          },
        ]
      : [],
  );
  return [...relationships, ...sqlTests];
}

/**
 * A ref() to a model that is switched off fails, naming both, as dbt's does: building the one
 * without the other would fail later at a table that is not there, or read one left from before.
 */
export function checkNoRefToDisabled(
  nodes: Map<string, ProjectNode>,
  tests: SingularTest[],
  disabled: Map<string, DisabledModel>,
): void {
  const readers: ReferenceReader[] = [
    ...[...nodes.values()].flatMap((node) => [
      { name: node.name, path: node.path, refs: node.refs, instead: `disable ${node.name} too` },
      ...dataTestReaders(node),
    ]),
    // A test under tests/ takes no configuration, so it cannot be switched off with the model.
    ...tests.map((test) => ({
      name: `the test ${test.name}`,
      path: test.path,
      refs: test.refs,
      instead: 'remove the test',
    })),
  ];
  const missing: string[] = [];
  for (const reader of readers)
    for (const ref of reader.refs) {
      const off = nodes.has(ref) ? undefined : disabled.get(ref);
      if (off)
        missing.push(
          `${reader.name} (${reader.path}) refers to ${reader.mention?.(ref) ?? `ref('${ref}')`}, which is disabled (${off.by}, for ${off.path}); enable ${ref}, or ${reader.instead}`,
        );
    }
  if (missing.length > 0)
    throw new InletError('MODEL_REF_MISSING', `${missing.join('\n')}.`, { details: { missing } });
}
