import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { INTERNAL_PROPS } from './bundle.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Names of the members a declaration file's interfaces, classes and type literals declare, by the type that declares them. */
function memberNames(file: string, text = readFileSync(file, 'utf8')): Map<string, string> {
  const names = new Map<string, string>();
  const visit = (node: ts.Node, owner: string): void => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name) owner = node.name.text;
    // HTMLElementTagNameMap's `del` or WindowEventMap's `load` name a tag or an event for the type checker:
    // no object has them as properties.
    if (/(EventMap|NameMap)$/.test(owner)) return;
    if (
      ts.isTypeElement(node) ||
      ts.isPropertyDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isAccessor(node)
    ) {
      if (node.name && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)))
        names.set(node.name.text, owner);
    }
    ts.forEachChild(node, (child) => visit(child, owner));
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest), '');
  return names;
}

/** Every property and method name TypeScript declares for the browser (lib.dom*) and JavaScript (lib.es*). */
function browserNames(): Map<string, string> {
  const lib = dirname(createRequire(import.meta.url).resolve('typescript/lib/lib.dom.d.ts'));
  const names = new Map<string, string>();
  for (const file of readdirSync(lib).filter((name) => /^lib\.(dom|es)[\w.]*\.d\.ts$/.test(name)))
    for (const [name, owner] of memberNames(join(lib, file))) names.set(name, `${owner}.${name} (${file})`);
  return names;
}

describe('the property names the script-tag build shortens', () => {
  it('are no property of a browser or JavaScript object, which would be shortened too', () => {
    const browser = browserNames();
    // The declarations were read: a Set's clear() and a PushSubscription's endpoint are there.
    expect(browser.get('clear')).toBeDefined();
    expect(browser.get('endpoint')).toMatch(/^PushSubscription\.endpoint/);
    expect(INTERNAL_PROPS.filter((name) => browser.has(name)).map((name) => browser.get(name))).toEqual([]);
  });

  it('are not the public API, the options or the wire format', () => {
    // What docs/tracker.md calls (inlet.track(…), the stub's inlet.q) and what the package's types declare.
    const docs = readFileSync(join(root, 'docs', 'tracker.md'), 'utf8');
    const documented = [...docs.matchAll(/\binlet\.([A-Za-z_$][\w$]*)/g)].map((match) => match[1]);
    const types = [...memberNames(join(root, 'packages', 'tracker', 'src', 'types.ts')).keys()];
    expect(documented).toEqual(
      expect.arrayContaining(['page', 'track', 'identify', 'login', 'search', 'watch', 'reset', 'q']),
    );
    expect(types).toEqual(
      expect.arrayContaining(['optOut', 'writeKey', 'autoPageview', 'hash_routing', 'sa']),
    );
    expect(INTERNAL_PROPS.filter((name) => documented.includes(name) || types.includes(name))).toEqual([]);
  });
});
