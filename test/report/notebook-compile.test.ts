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
