import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { TSLAB_COMPILER_OPTIONS } from "./tslab-options";
import { PROJECT_ROOT } from "../../lib/data";
import { cellText, listNotebooks, readNotebook } from "../../lib/report";

// Running a notebook takes minutes; type-checking its cells takes seconds. Each notebook's code cells, joined in
// order as one module at the project root (where the kernel starts, so `./lib/<folder>` resolves), must compile
// under tslab's options: a renamed export or a moved folder fails here instead of half-way through `npm start`.
test("every notebook's code cells type-check against lib/ under tslab's compiler options", () => {
  const options: ts.CompilerOptions = { ...TSLAB_COMPILER_OPTIONS };
  const notebooks = listNotebooks(path.join(PROJECT_ROOT, "notebooks"));
  assert.ok(notebooks.length >= 7, `expected the notebooks, found ${notebooks.length}`);
  const sources = new Map<string, string>();
  for (const file of notebooks) {
    const cells = readNotebook(file).cells.filter((c) => c.cell_type === "code");
    const code = cells.map(cellText).join("\n;\n");
    sources.set(path.join(PROJECT_ROOT, `__notebook_${path.basename(file, ".ipynb")}.ts`), `${code}\nexport {};\n`);
  }
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => sources.has(path.resolve(f)) || fs.existsSync(f);
  host.readFile = (f) => sources.get(path.resolve(f)) ?? readFile(f);
  host.getSourceFile = (f, version, onError, create) => {
    const text = sources.get(path.resolve(f));
    return text !== undefined ? ts.createSourceFile(f, text, version) : getSourceFile(f, version, onError, create);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && sources.has(path.resolve(d.file.fileName)))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const text = d.file!.text.split("\n")[line]?.trim();
      return `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")} — ${text}`;
    });
  assert.deepEqual(problems, []);
});

/** Names a statement declares at the top level of a cell (variables, incl. destructured ones, functions, classes). */
function topLevelNames(statement: ts.Statement): string[] {
  const names: string[] = [];
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.push(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  if (ts.isVariableStatement(statement)) for (const d of statement.declarationList.declarations) bind(d.name);
  if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) names.push(statement.name.text);
  return names;
}

/** True when `name` is declared between `node` and the cell's top level (a parameter or a local variable shadows it). */
function shadowed(node: ts.Node, name: string): boolean {
  for (let at = node.parent; at && !ts.isSourceFile(at); at = at.parent) {
    if (ts.isFunctionLike(at) && at.parameters.some((p) => bindsName(p.name, name))) return true;
    if ((ts.isBlock(at) || ts.isForOfStatement(at) || ts.isForInStatement(at) || ts.isForStatement(at)) && declaresLocally(at, name)) return true;
    if (ts.isCatchClause(at) && at.variableDeclaration && bindsName(at.variableDeclaration.name, name)) return true;
  }
  return false;
}

function bindsName(binding: ts.BindingName, name: string): boolean {
  if (ts.isIdentifier(binding)) return binding.text === name;
  return binding.elements.some((e) => !ts.isOmittedExpression(e) && bindsName(e.name, name));
}

function declaresLocally(scope: ts.Node, name: string): boolean {
  if (ts.isBlock(scope)) return scope.statements.some((s) => topLevelNames(s).includes(name));
  const init = (scope as ts.ForOfStatement | ts.ForStatement).initializer;
  return !!init && ts.isVariableDeclarationList(init) && init.declarations.some((d) => bindsName(d.name, name));
}

// tslab turns a cell's top-level declarations into module exports and rewrites their uses, but not an object
// shorthand: `f({ seed })` with `const seed` declared at a cell's top level fails at run time with "seed is not
// defined" while it type-checks. Notebooks write `{ seed: seed }`.
test("no notebook uses an object shorthand for a top-level variable (tslab leaves it unresolved at run time)", () => {
  const problems: string[] = [];
  for (const file of listNotebooks(path.join(PROJECT_ROOT, "notebooks"))) {
    const cells = readNotebook(file).cells.filter((c) => c.cell_type === "code").map((c) => ts.createSourceFile("cell.ts", cellText(c), ts.ScriptTarget.Latest, true));
    const topLevel = new Set(cells.flatMap((cell) => cell.statements.flatMap(topLevelNames)));
    cells.forEach((cell, index) => {
      const visit = (node: ts.Node): void => {
        if (ts.isShorthandPropertyAssignment(node) && topLevel.has(node.name.text) && !shadowed(node, node.name.text)) {
          const { line } = cell.getLineAndCharacterOfPosition(node.getStart());
          problems.push(`${path.basename(file)}, code cell ${index + 1}, line ${line + 1}: { ${node.name.text} } → { ${node.name.text}: ${node.name.text} }`);
        }
        ts.forEachChild(node, visit);
      };
      visit(cell);
    });
  }
  assert.deepEqual(problems, []);
});
