import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import ts from "typescript";
import { PROJECT_ROOT } from "../../lib/data/paths";

// The notebook kernel (tslab 1.0.22) type-checks imported lib/ files with its own options (TypeScript 5.0, es2022
// lib, no `strict`); notebook 07 imports lib/evaluation, so it must compile there as well as under `npx tsc -p .`.
test("lib/evaluation type-checks under tslab's non-strict compiler options", () => {
  const program = ts.createProgram([path.join(PROJECT_ROOT, "lib", "evaluation", "index.ts")], {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ["node"],
    noEmit: true,
  });
  const dir = path.join(PROJECT_ROOT, "lib", "evaluation") + path.sep;
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && path.resolve(d.file.fileName).startsWith(dir))
    .map((d) => `${path.relative(PROJECT_ROOT, d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  assert.deepEqual(problems, []);
});
