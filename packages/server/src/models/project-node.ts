import type { DeclaredSource } from './dbt-sources.ts';
import type { ModelConfig } from './model-config.ts';

// What reading a project gives: its models and seeds (the graph's nodes), its tests, and the models
// switched off.

/** One node of the graph: a SQL model, or a seed (a CSV file loaded as a table). */
export interface ProjectNode {
  name: string;
  kind: 'model' | 'seed';
  /** The model's SQL as written, template tags included; empty for a seed. */
  sql: string;
  /** The .sql or .csv file, absolute. */
  path: string;
  /** The folders between its model (or seed) folder and its file, as dbt's selectors name them (staging). */
  folders: string[];
  config: ModelConfig;
  /** Models and seeds named by ref(), in order of first mention. */
  refs: string[];
  /** Source tables named by source('crm', 'customers'), as crm.customers, in order of first mention. */
  sources: string[];
  origin: 'builtin' | 'project';
  /** False when no front matter or YAML file configures it (all defaults). */
  configured: boolean;
  /** The file its configuration is in, as errors name it: its .yaml, or the .sql with front matter. */
  configFile?: string;
}

/** A SQL file under tests/ that must return no rows; it may ref() models. */
export interface SingularTest {
  name: string;
  path: string;
  sql: string;
  refs: string[];
  /** Source tables named by source(), as crm.customers. */
  sources: string[];
}

export interface Project {
  /** The user's project directory, when it exists. */
  dir: string | undefined;
  /** The name: of its dbt_project.yml, when it says one. */
  name?: string;
  nodes: Map<string, ProjectNode>;
  tests: SingularTest[];
  /** The sources: of its properties files, by source name: descriptions and tests of source tables. */
  sources: Map<string, DeclaredSource>;
  /** The models switched off (enabled: false) and not replaced, by name. */
  disabled: Map<string, SwitchedOff>;
  /** What is wrong but changes nothing built (a dbt_project.yml entry for no model), to say once. */
  warnings: string[];
}

/** A model switched off, as selectors see it: where it was done and the file, and its folders. */
export interface SwitchedOff {
  where: string;
  /** The folders of its file under its model folder, as a folder selector (legacy) names them. */
  folders: string[];
}

/** A model switched off by enabled: false (dbt's way to keep a model's file but not build it). */
export interface DisabledModel {
  name: string;
  path: string;
  folders: string[];
  /** Where it was switched off, as the error for a ref() to it says. */
  by: string;
}
