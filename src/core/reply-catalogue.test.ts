import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The reply catalogue is the only place a reply is made: core/reply.ts. This scans every source
 * file under src/ (tests aside, and the port contract suites store/*-contract.ts, which are test code
 * holding the replies peers send as data) and fails on any other way of making one.
 */
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const CATALOGUE = 'core/reply.ts';
const REPLY_TEXT = /^[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}(\s|$)/;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts') && !/\.test\.ts$|\.d\.ts$|-contract\.ts$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Each way of making a reply outside the catalogue, as `line: what`. */
export function repliesBuiltIn(fileName: string, text: string): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => found.push(`${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what}`);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text.endsWith('core/reply.js')) {
      const names = node.importClause?.namedBindings;
      if (names && ts.isNamedImports(names)) {
        for (const el of names.elements) if ((el.propertyName ?? el.name).text === 'reply') at(el, 'imports the reply constructor');
      }
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'reply') at(node, 'calls reply(...)');
    if (ts.isObjectLiteralExpression(node)) {
      const keys = new Set(node.properties.map((p) => (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : '')));
      if (keys.has('code') && keys.has('enhanced') && keys.has('text')) at(node, 'builds a { code, enhanced, text } reply by hand');
      for (const p of node.properties) {
        if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'responseCode' && ts.isNumericLiteral(p.initializer)) {
          at(p, `hands smtp-server a raw responseCode ${p.initializer.text}`);
        }
      }
    }
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) {
      if (REPLY_TEXT.test(node.text)) at(node, `a reply written as a string: ${JSON.stringify(node.text)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test('no reply is made outside core/reply.ts', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 50, `the scan sees the sources (${files.length} files under ${SRC})`);
  const offences: string[] = [];
  for (const path of files) {
    const name = relative(SRC, path).split('\\').join('/');
    if (name === CATALOGUE) continue;
    for (const o of repliesBuiltIn(name, readFileSync(path, 'utf8'))) offences.push(`src/${name}:${o}`);
  }
  assert.deepEqual(offences, [], 'add the reply to Replies in src/core/reply.ts and use it from there');
});

test('the scan recognises every way of making a reply it forbids, and not a mention in a comment', () => {
  const sample = [
    "import { reply, Replies } from '../core/reply.js';",
    "import { reply as r } from '../../core/reply.js';",
    '// answers `550 5.7.1 denied`, as in the comment',
    "const a = reply(550, '5.7.1', 'denied');",
    "const b = Object.freeze({ code: 550, enhanced: '5.7.1', text: 'denied' });",
    "const c = '554 5.0.0 returned';",
    'const d = `451 4.3.0 ${why}`;',
    "done(Object.assign(new Error('no'), { responseCode: 503 }));",
    'const fine = { code: e.code, responseCode: e.responseCode, text: Replies.senderOk.text };',
  ].join('\n');
  assert.deepEqual(repliesBuiltIn('sample.ts', sample), [
    '1: imports the reply constructor',
    '2: imports the reply constructor',
    '4: calls reply(...)',
    '5: builds a { code, enhanced, text } reply by hand',
    '6: a reply written as a string: "554 5.0.0 returned"',
    '7: a reply written as a string: "451 4.3.0 "',
    '8: hands smtp-server a raw responseCode 503',
  ]);
});
