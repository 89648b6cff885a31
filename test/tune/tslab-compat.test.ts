import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import ts from "typescript";
import { PROJECT_ROOT } from "../../lib/data/paths";

// The notebook kernel (tslab 1.0.22) type-checks imported lib/ files with its own options: TypeScript 5.0, es2022
// lib, and no `strict` — so narrowing that relies on strictNullChecks (e.g. `if (node.leaf)` on a union) fails there
// although `npx tsc -p .` passes. lib/tune must compile under both.
test("lib/tune type-checks under tslab's non-strict compiler options", () => {
  const program = ts.createProgram([path.join(PROJECT_ROOT, "lib", "tune", "index.ts")], {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ["node"],
    noEmit: true,
  });
  const tuneDir = path.join(PROJECT_ROOT, "lib", "tune") + path.sep;
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && path.resolve(d.file.fileName).startsWith(tuneDir))
    .map((d) => `${path.relative(PROJECT_ROOT, d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  assert.deepEqual(problems, []);
});
