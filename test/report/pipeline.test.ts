import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkPages, executeNotebook, Notebook, writeNotebook } from "../../lib/report";

function notebook(cells: string[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: [
      { cell_type: "markdown", source: "# Pipeline check", metadata: {} },
      ...cells.map((source) => ({ cell_type: "code" as const, source, metadata: {}, outputs: [], execution_count: null })),
    ],
  };
}

test("a notebook outside the root imports lib/, runs headless and its report renders offline", { timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-"));
  const file = path.join(dir, "01_check.ipynb");
  writeNotebook(file, notebook([
    `import { parsePythonStringList } from "./lib/poi";\nimport { show, barChart, showTable } from "./lib/viz";\nconst tags = parsePythonStringList("['a', 'b']");\nconsole.log("tags", tags.length);`,
    `show(barChart(tags, [1, 2], { title: "bars" }));\nshowTable([{ tag: tags[0], n: 1 }]);`,
  ]));
  const run = await executeNotebook(file, { reportsDir: dir });
  assert.ok(run.ok, run.error);
  assert.equal(run.plots, 1);
  assert.equal(run.title, "Pipeline check");
  const html = fs.readFileSync(run.html, "utf8");
  assert.match(html, /tags 2/);
  const [check] = await checkPages([run.html]);
  assert.deepEqual(check.externalRequests, []);
  assert.deepEqual(check.pageErrors, []);
  assert.equal(check.plots, 1);
  assert.equal(check.rendered, 1);
  assert.ok(fs.statSync(check.screenshot).size > 1000);
});

test("a failing cell fails the run and reports the error", { timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-"));
  const file = path.join(dir, "02_broken.ipynb");
  writeNotebook(file, notebook([`throw new Error("boom in cell");`]));
  const run = await executeNotebook(file, { reportsDir: dir });
  assert.equal(run.ok, false);
  assert.match(run.error ?? "", /boom in cell/);
});
