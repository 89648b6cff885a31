import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { TSLAB_COMPILER_OPTIONS } from "./tslab-options";
import { PROJECT_ROOT } from "../../lib/data";

// The notebook kernel (tslab 1.0.22) type-checks every lib/ file a notebook imports with its own options, not
// tsconfig.json: TypeScript 5.0, lib es2022 only (no DOM), not strict. A cell fails on any error in those files, so
// the whole library must compile there as well as under the project's strict `tsc -p .`.
test("every lib/ folder type-checks under tslab's compiler options", () => {
  const libDir = path.join(PROJECT_ROOT, "lib");
  const entries = fs
    .readdirSync(libDir)
    .map((folder) => path.join(libDir, folder, "index.ts"))
    .filter((file) => fs.existsSync(file));
  assert.ok(entries.length >= 10, `expected the lib folders, found ${entries.length}`);
  const program = ts.createProgram(entries, { ...TSLAB_COMPILER_OPTIONS });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && path.resolve(d.file.fileName).startsWith(libDir + path.sep))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${path.relative(PROJECT_ROOT, d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
  assert.deepEqual(problems, []);
});
