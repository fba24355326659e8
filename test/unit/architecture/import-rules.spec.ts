import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The dependency rules of lib/, read from every module's imports (static, re-exports, type-only and dynamic
 * `import()`): each broker's client package stays in its transport folder, the transport-neutral core reaches a
 * transport only through the one chooser, and the arrows between folders run one way, downwards:
 *
 *   messaging.module.ts (composition root), admin/, testing/, bin/     may import anything below
 *   server/ (the Nest strategy)   client/ (the publisher)               report to observability/, never to each other
 *   observability/                                                     events, listeners, tracing, metrics, health
 *   sns-sqs/   amqp/                                                   the adapters: transport/'s ports, topology/'s shapes
 *   transport/                                                         ports, settle(), topic routing, the definition
 *   topology/                                                          the I/O-free description and the IaC generators
 *
 * The adapters sit beside the core, not in it: nothing above transport/ imports them, and transport/ only through
 * load-transport.ts. Leaves shared by every layer (errors, messaging.options, options/, envelopes/, context/, naming)
 * are outside these rules. Observability hooks into the server's deliveries and the client's publishes through
 * what server/ and client/ hand it (listeners, wrapped handlers); it is wired to them in messaging.module.ts.
 */
const LIB = resolve('lib');
const CHOOSER = 'transport/load-transport.ts';
const NEUTRAL_CORE = ['transport/', 'server/', 'client/', 'observability/', 'admin/', 'testing/'];
const TRANSPORT_FOLDERS = ['sns-sqs/', 'amqp/'];
const BROKER_CLIENT = /^(@aws-sdk\/|amqplib$)/;
/** For each layered folder, the folders it may import (see the picture above). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'topology/': [],
  'transport/': ['topology/'],
  'sns-sqs/': ['transport/', 'topology/'],
  'amqp/': ['transport/', 'topology/'],
  'observability/': ['transport/', 'topology/'],
  'server/': ['observability/', 'transport/', 'topology/'],
  'client/': ['observability/', 'transport/', 'topology/'],
};

interface ImportEdge {
  /** The importing module, relative to lib/. */
  from: string;
  specifier: string;
  /** A relative import's target module, relative to lib/; undefined for a package. */
  target?: string;
  /** `static` is loaded with the module; `type` is erased from the compiled code; `dynamic` is an `import()`. */
  kind: 'static' | 'type' | 'dynamic';
}

function moduleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return moduleFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): ImportEdge[] {
  const from = relative(LIB, file);
  const edges: ImportEdge[] = [];
  const add = (specifier: ts.Expression | undefined, kind: ImportEdge['kind']) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const text = specifier.text;
    const target = text.startsWith('.') ? relative(LIB, resolve(dirname(file), text)).replace(/\.js$/, '.ts') : undefined;
    edges.push({ from, specifier: text, ...(target !== undefined ? { target } : {}), kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, isErased(node.importClause) ? 'type' : 'static');
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly ? 'type' : 'static');
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], 'dynamic');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal as ts.Expression, 'type');
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true));
  return edges;
}

/** `import type { A }` and `import { type A, type B }` leave nothing in the compiled module. */
function isErased(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

const edges = moduleFiles(LIB).flatMap(importsOf);
const show = (edge: ImportEdge) => `${edge.from} imports ${edge.specifier}`;
const inside = (path: string, folders: readonly string[]) => folders.some((folder) => path.startsWith(folder));
const layerOf = (path: string) => Object.keys(MAY_IMPORT).find((folder) => path.startsWith(folder));

/** The modules loaded with `start`: its static imports, transitively. */
function loadedWith(start: string, seen = new Set<string>()): Set<string> {
  if (seen.has(start)) return seen;
  seen.add(start);
  for (const edge of edges) if (edge.from === start && edge.kind === 'static' && edge.target !== undefined) loadedWith(edge.target, seen);
  return seen;
}

describe('lib/ import rules', () => {
  it('reads every kind of import, dynamic import() included', () => {
    expect(edges).toContainEqual({
      from: CHOOSER,
      specifier: '../sns-sqs/definition.js',
      target: 'sns-sqs/definition.ts',
      kind: 'dynamic',
    });
    expect(new Set(edges.map((e) => e.kind))).toEqual(new Set(['static', 'type', 'dynamic']));
  });

  it('only lib/sns-sqs/ imports the AWS SDK (its large-payload folder owns S3)', () => {
    expect(edges.filter((e) => e.specifier.startsWith('@aws-sdk/') && !inside(e.from, ['sns-sqs/'])).map(show)).toEqual([]);
  });

  it('only lib/amqp/ imports amqplib', () => {
    expect(edges.filter((e) => e.specifier === 'amqplib' && !inside(e.from, ['amqp/'])).map(show)).toEqual([]);
  });

  it('lib/transport, server, client, observability, admin and testing import no transport folder, except the one chooser', () => {
    const crossings = edges.filter((e) => inside(e.from, NEUTRAL_CORE) && e.target !== undefined && inside(e.target, TRANSPORT_FOLDERS));
    expect(crossings.filter((e) => e.from !== CHOOSER).map(show)).toEqual([]);
    expect([...new Set(crossings.map((e) => e.from))]).toEqual([CHOOSER]);
  });

  it('loading a module of the transport-neutral core loads no transport folder (not through another folder either)', () => {
    const core = [...new Set(edges.map((e) => e.from))].filter((file) => inside(file, NEUTRAL_CORE));
    const reached = core.flatMap((file) =>
      [...loadedWith(file)].filter((m) => inside(m, TRANSPORT_FOLDERS)).map((m) => `${file} loads ${m}`),
    );
    expect(reached).toEqual([]);
  });

  it('arrows between the layered folders run downwards only (the chooser loading a transport folder aside)', () => {
    const crossings = edges.filter((e) => {
      const from = layerOf(e.from);
      const to = e.target !== undefined ? layerOf(e.target) : undefined;
      return from !== undefined && to !== undefined && from !== to;
    });
    expect(new Set(crossings.map((e) => `${layerOf(e.from)} -> ${layerOf(e.target!)}`))).toContain('server/ -> observability/');
    const upward = crossings.filter(
      (e) => !MAY_IMPORT[layerOf(e.from)!]!.includes(layerOf(e.target!)!) && !(e.from === CHOOSER && inside(e.target!, TRANSPORT_FOLDERS)),
    );
    expect(upward.map(show)).toEqual([]);
  });

  it.each(['sns-sqs/definition.ts', 'amqp/definition.ts'])(
    '%s loads no broker client package until a broker or an admin backend is created',
    (definition) => {
      const loaded = loadedWith(definition);
      expect(loaded.size).toBeGreaterThan(1);
      const clients = edges.filter((e) => loaded.has(e.from) && e.kind === 'static' && BROKER_CLIENT.test(e.specifier));
      expect(clients.map(show)).toEqual([]);
    },
  );
});

describe('test/unit layout', () => {
  it('mirrors lib/: every unit test folder is a folder of lib/ (architecture/ aside, which tests lib/ as a whole)', () => {
    const folders = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => {
          const path = join(dir, entry.name);
          return [path, ...folders(path)];
        });
    const unitRoot = resolve('test/unit');
    const strays = folders(unitRoot)
      .map((path) => relative(unitRoot, path))
      .filter(
        (folder) =>
          folder !== 'architecture' &&
          !folders(LIB)
            .map((path) => relative(LIB, path))
            .includes(folder),
      );
    expect(strays).toEqual([]);
  });
});
