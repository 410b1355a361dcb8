/**
 * No function in the sources runs over 60 lines: past that a function does several things, and its parts
 * want names of their own. Functions, methods, constructors and accessors count alike, from the first line
 * of their declaration to the last of their body; test files do not count.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const REPO = join(__dirname, '..', '..');
const ROOTS = ['functions', 'shared', 'infra', 'cli', 'local', 'bench', 'scripts'];
const MAX_LINES = 60;

/**
 * The functions allowed past the limit, as `<path> <name>`, each with its reason. A reason must hold for a
 * reviewer; an entry that no longer runs over the limit fails the test, so the list only shrinks.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map([]);

interface LongFunction {
  readonly where: string;
  readonly lines: number;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules' && !name.startsWith('cdk.out')) out.push(...sources(path));
    } else if (/\.(ts|js|mjs|cjs)$/.test(name) && !/\.d\.ts$|\.test\.[cm]?[jt]s$/.test(name)) out.push(path);
  }
  return out;
}

/** The name a reader would look for: the declared one, else the variable or property that holds it. */
function nameOf(node: ts.SignatureDeclaration): string {
  if (ts.isConstructorDeclaration(node)) return `${node.parent.name?.getText() ?? '<class>'} constructor`;
  if (node.name) return node.name.getText();
  const holder = node.parent;
  if (ts.isVariableDeclaration(holder) || ts.isPropertyAssignment(holder) || ts.isPropertyDeclaration(holder)) {
    return holder.name.getText();
  }
  return '<anonymous>';
}

function longFunctions(file: string, text: string, max = MAX_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const out: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const lines = line(node.end) - line(node.getStart(source)) + 1;
      if (lines > max) out.push({ where: `${file} ${nameOf(node)}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('function length', () => {
  const found = ROOTS.flatMap((root) => sources(join(REPO, root))).flatMap((path) =>
    longFunctions(relative(REPO, path).split(sep).join('/'), readFileSync(path, 'utf8')),
  );

  it(`no function in the sources runs over ${MAX_LINES} lines`, () => {
    assert.deepEqual(
      found.filter((f) => !ALLOWED.has(f.where)).map((f) => `${f.where}: ${f.lines} lines`),
      [],
      'split these into named steps, or allow one here with the reason',
    );
  });

  it('every allowed function still needs its entry', () => {
    const long = new Set(found.map((f) => f.where));
    assert.deepEqual(
      [...ALLOWED.keys()].filter((where) => !long.has(where)),
      [],
      'these are short now (or gone): remove them from ALLOWED',
    );
  });

  it('counts every kind of function, with the name that holds it', () => {
    const body = Array.from({ length: MAX_LINES - 1 }, (_, i) => `  const x${i} = ${i};`).join('\n');
    const text = [
      `function declared() {\n${body}\n}`,
      `const held = () => {\n${body}\n};`,
      `class Built {\n  constructor() {\n${body}\n  }\n  method() {\n${body.slice(0, 20)}\n  }\n}`,
      `export const table = { row: function () {\n${body}\n} };`,
      `function fits() {\n${body.split('\n').slice(1).join('\n')}\n}`,
    ].join('\n');
    assert.deepEqual(
      longFunctions('x.ts', text).map((f) => `${f.where}: ${f.lines}`),
      ['x.ts declared: 61', 'x.ts held: 61', 'x.ts Built constructor: 61', 'x.ts row: 61'],
    );
  });
});
