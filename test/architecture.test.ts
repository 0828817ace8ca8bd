/**
 * The dependency rules of ARCHITECTURE.md, checked on the import graph of src/: every `import`,
 * `export … from` and `import('…')` of every src/**\/*.ts, read with the TypeScript parser (already
 * the compiler, no new dependency). Type-only imports count: a type is knowledge of a module too.
 *
 * The rules are about shipped code. Test files (*.test.ts, and the port contract suites
 * store/*-contract.ts, which only tests run) are parsed, but they wire real adapters and read
 * fixtures the way app/ does, so only "delivery/ never imports queue/" applies to them.
 *
 * A store adapter (store/sqlite/, store/postgres/, store/filesystem/) counts as a folder of its own: the ports
 * (store/ports.ts) sit below the domain, which calls them; the adapters sit above it, implementing
 * the ports with the domain's rules and types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** One import of one file: `from` is a path under src/; `to` is a path under src/ or a package name. */
interface Edge {
  from: string;
  to: string;
  line: number;
}

/** Every module a source text names in an import, an `export … from` or a dynamic `import()`. */
export function importsOf(fileName: string, text: string): Array<{ specifier: string; line: number }> {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found: Array<{ specifier: string; line: number }> = [];
  const add = (node: ts.Node, specifier: string): void => {
    found.push({ specifier, line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) add(node, arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `./x.js` from `queue/scheduler.ts` → `queue/x.ts`; a package stays as named. */
function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
}

function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const path of sourceFiles(SRC)) {
    const from = relative(SRC, path).split('\\').join('/');
    for (const { specifier, line } of importsOf(from, readFileSync(path, 'utf8'))) edges.push({ from, to: resolveSpecifier(from, specifier), line });
  }
  return edges;
}

const isTest = (file: string): boolean => file.endsWith('.test.ts') || /^store\/[^/]+-contract\.ts$/.test(file);
const STORE_ADAPTERS = ['store/sqlite', 'store/postgres', 'store/filesystem'];
const adapterOf = (file: string): string | undefined => STORE_ADAPTERS.find((a) => file.startsWith(a + '/'));
const topFolder = (file: string): string => adapterOf(file) ?? file.split('/')[0]!;
const isInSrc = (target: string): boolean => !target.startsWith('..') && target.includes('/');
const under = (target: string, ...folders: string[]): boolean => folders.some((f) => target.startsWith(f + '/'));
const isStoreAdapter = (target: string): boolean => adapterOf(target) !== undefined;

interface Rule {
  name: string;
  /** The edge breaks the rule. */
  forbids(edge: Edge): boolean;
  /** Test files too (most rules are about shipped code only). */
  tests?: boolean;
}

/**
 * Packages core/ may use: pure computation, no I/O, no clock, no randomness. Add one only if
 * that stays true of it.
 */
const PURE_PACKAGES = new Set(['node:url', 'ipaddr.js']);

const RULES: Rule[] = [
  {
    name: 'core/ is values with no I/O: it imports only core/ and pure packages',
    forbids: (e) => under(e.from, 'core') && (isInSrc(e.to) ? !under(e.to, 'core') : !PURE_PACKAGES.has(e.to)),
  },
  {
    name: 'policy/ is pure: it imports only policy/, core/ and directory/model',
    forbids: (e) => under(e.from, 'policy') && !(under(e.to, 'policy', 'core') || e.to === 'directory/model.ts'),
  },
  {
    // cli/ has its own rule below, so each of its edges is named once.
    name: 'store adapters (store/sqlite/, store/postgres/, store/filesystem/) are imported only by app/',
    forbids: (e) => isStoreAdapter(e.to) && !under(e.from, 'app', 'cli') && adapterOf(e.from) !== adapterOf(e.to),
  },
  {
    name: 'cli/ never imports a store adapter: commands go through app/ and the ports',
    forbids: (e) => under(e.from, 'cli') && isStoreAdapter(e.to),
  },
  {
    name: 'delivery/ never imports queue/: the queue holds delivery through the courier and resolver ports (core/courier.ts)',
    forbids: (e) => under(e.from, 'delivery') && under(e.to, 'queue'),
    tests: true,
  },
];

/**
 * Known violations of today, so the test can land before the work that removes them: the CLI
 * commands that still open SQLite adapters themselves (being moved behind services and ports).
 * Each entry must still occur — the test fails on a stale one — so this list can only shrink.
 * Never add to it: fix the edge instead.
 */
const KNOWN_VIOLATIONS: readonly string[] = [
];

const edgeKey = (e: Edge): string => `${e.from} -> ${e.to}`;

/** Every edge that breaks a rule, as `src/file:line imports target: rule`, and the keys they match. */
function violations(edges: readonly Edge[]): Array<{ key: string; message: string }> {
  const out: Array<{ key: string; message: string }> = [];
  for (const e of edges) {
    for (const rule of RULES) {
      if (isTest(e.from) && !rule.tests) continue;
      if (rule.forbids(e)) out.push({ key: edgeKey(e), message: `src/${e.from}:${e.line} imports ${e.to}: ${rule.name}` });
    }
  }
  return out;
}

/** Cycles between top-level folders of shipped code, each as `a -> b -> a` with one file edge per hop. */
export function folderCycles(edges: readonly Edge[]): string[] {
  const graph = new Map<string, Map<string, Edge>>();
  for (const e of edges) {
    if (isTest(e.from) || !isInSrc(e.to)) continue;
    const [a, b] = [topFolder(e.from), topFolder(e.to)];
    if (a === b) continue;
    const out = graph.get(a) ?? new Map<string, Edge>();
    if (!out.has(b)) out.set(b, e);
    graph.set(a, out);
  }
  // Tarjan's strongly connected components: a component of more than one folder is a cycle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) connect(v);
  return components.map((c) => {
    const inside = new Set(c);
    const hops = c.flatMap((a) =>
      [...(graph.get(a) ?? new Map<string, Edge>())].filter(([b]) => inside.has(b)).map(([b, e]) => `${a} -> ${b} (src/${e.from}:${e.line} imports ${e.to})`),
    );
    return `folders ${c.join(', ')} import each other: ${hops.join('; ')}`;
  });
}

const graph = importGraph();

test('architecture: the scan sees the sources and their imports', () => {
  const files = new Set(graph.map((e) => e.from));
  assert.ok(files.size > 150, `files with imports under ${SRC}: ${files.size}`);
  assert.ok(graph.some((e) => e.from === 'app/delivery.ts' && e.to === 'queue/scheduler.ts'), 'a known edge is found');
  assert.ok(graph.some((e) => e.from === 'cli/commands/index.ts' && e.to === 'cli/commands/serve.ts'), 'a dynamic import is found');
});

test('architecture: no import breaks a layout rule (beyond the known, shrinking list)', () => {
  const found = violations(graph);
  const known = new Set(KNOWN_VIOLATIONS);
  const fresh = found.filter((v) => !known.has(v.key)).map((v) => v.message);
  assert.deepEqual(fresh, [], 'each line names the file, the forbidden edge and the rule it breaks');
});

test('architecture: every known violation still occurs (remove the entries that were fixed)', () => {
  const occurring = new Set(violations(graph).map((v) => v.key));
  const stale = KNOWN_VIOLATIONS.filter((k) => !occurring.has(k));
  assert.deepEqual(stale, [], 'these edges are gone: delete them from KNOWN_VIOLATIONS in test/architecture.test.ts');
});

test('architecture: no import cycle between top-level folders of src/', () => {
  assert.deepEqual(folderCycles(graph), []);
});

test('architecture: the checks catch what they forbid', () => {
  const sample = [
    "import type { A } from '../queue/delivery-queue.js';",
    "import {\n  B,\n  C,\n} from '../store/sqlite/database.js';",
    "export { D } from './d.js';",
    "export * from 'node:fs';",
    "const m = await import('../app/server.js');",
    "// import { E } from '../queue/scheduler.js';",
    "const s = \"import { F } from '../queue/x.js'\";",
  ].join('\n');
  assert.deepEqual(importsOf('delivery/x.ts', sample), [
    { specifier: '../queue/delivery-queue.js', line: 1 },
    { specifier: '../store/sqlite/database.js', line: 2 },
    { specifier: './d.js', line: 6 },
    { specifier: 'node:fs', line: 7 },
    { specifier: '../app/server.js', line: 8 },
  ]);
  const edge = (from: string, to: string): Edge => ({ from, to, line: 1 });
  assert.deepEqual(
    violations([
      edge('delivery/courier.ts', 'queue/scheduler.ts'),
      edge('delivery/courier.test.ts', 'queue/states.ts'),
      edge('queue/accept.test.ts', 'store/sqlite/queue-store.ts'),
      edge('policy/evaluate.ts', 'directory/yaml.ts'),
      edge('policy/evaluate.ts', 'node:fs'),
      edge('core/clock.ts', 'node:fs'),
      edge('core/domain.ts', 'node:url'),
      edge('smtp/session.ts', 'store/sqlite/database.ts'),
      edge('cli/commands/route.ts', 'store/sqlite/database.ts'),
      edge('app/stores.ts', 'store/sqlite/database.ts'),
      edge('queue/scheduler.ts', 'store/filesystem/body-store.ts'),
      edge('store/filesystem/body-store.ts', 'store/sqlite/database.ts'),
      edge('store/sqlite/queue-store.ts', 'store/sqlite/database.ts'),
      edge('store/bodies-contract.ts', 'store/filesystem/body-store.ts'),
      edge('delivery/service.ts', 'store/postgres/database.ts'),
      edge('cli/commands/migrate.ts', 'store/postgres/database.ts'),
      edge('store/postgres/directory-store.ts', 'store/sqlite/directory-rows.ts'),
      edge('store/postgres/directory-store.ts', 'store/postgres/database.ts'),
      edge('app/stores.ts', 'store/postgres/directory-store.ts'),
    ]).map((v) => v.message.replace(/: .*/, '')),
    [
      'src/delivery/courier.ts:1 imports queue/scheduler.ts',
      'src/delivery/courier.test.ts:1 imports queue/states.ts',
      'src/policy/evaluate.ts:1 imports directory/yaml.ts',
      'src/policy/evaluate.ts:1 imports node:fs',
      'src/core/clock.ts:1 imports node:fs',
      'src/smtp/session.ts:1 imports store/sqlite/database.ts',
      'src/cli/commands/route.ts:1 imports store/sqlite/database.ts',
      'src/queue/scheduler.ts:1 imports store/filesystem/body-store.ts',
      'src/store/filesystem/body-store.ts:1 imports store/sqlite/database.ts',
      'src/delivery/service.ts:1 imports store/postgres/database.ts',
      'src/cli/commands/migrate.ts:1 imports store/postgres/database.ts',
      'src/store/postgres/directory-store.ts:1 imports store/sqlite/directory-rows.ts',
    ],
  );
  // The ports sit below the domain and the adapters above it: no cycle; a port that imported the
  // domain would be one.
  const layered = [edge('queue/accept.ts', 'store/ports.ts'), edge('store/sqlite/queue-store.ts', 'queue/states.ts'), edge('store/sqlite/queue-store.ts', 'store/ports.ts')];
  assert.deepEqual(folderCycles(layered), []);
  assert.equal(folderCycles([...layered, edge('store/ports.ts', 'queue/states.ts')]).length, 1);
  assert.deepEqual(folderCycles([edge('queue/scheduler.ts', 'delivery/attempt.ts'), edge('delivery/prepare.ts', 'queue/delivery-queue.ts'), edge('queue/x.test.ts', 'smtp/y.ts'), edge('smtp/a.ts', 'queue/b.ts')]), [
    'folders delivery, queue import each other: delivery -> queue (src/delivery/prepare.ts:1 imports queue/delivery-queue.ts); queue -> delivery (src/queue/scheduler.ts:1 imports delivery/attempt.ts)',
  ]);
});
