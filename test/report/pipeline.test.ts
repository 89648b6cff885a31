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
    `const aVeryLongLineOfCode = [${Array.from({ length: 60 }, (_, i) => `"item number ${i}"`).join(", ")}];\nconsole.log(aVeryLongLineOfCode.join(" "));`,
    `import { heatmap } from "./lib/viz";\nshow(heatmap([[1, 0], [0, -1]], ["a", "b"], ["a", "b"], { zmin: -1, zmax: 1 }));\nshowTable([{ fitted: { mean: 1.5, scale: [1, 2] } }], { caption: "A caption long enough that a table of one narrow column would squeeze it into a tall thin block of words" });`,
  ]));
  const run = await executeNotebook(file, { reportsDir: dir });
  assert.ok(run.ok, run.error);
  assert.equal(run.plots, 2);
  assert.equal(run.title, "Pipeline check");
  const html = fs.readFileSync(run.html, "utf8");
  assert.match(html, /tags 2/);
  // The report stylesheet: long code lines wrap, captions sit above tables at text width.
  assert.match(html, /<style id="poi-report-style">[^<]*white-space: pre-wrap/);
  assert.match(html, /<figcaption class="poi-caption"[^>]*>A caption long enough/);
  assert.match(html, /mean: 1\.500; scale: \[1, 2\]/);
  // Heatmap numbers: white on the dark corners, dark on the light middle.
  assert.match(html, /"text":"1","showarrow":false,"font":\{"size":10,"color":"white"\}/);
  assert.match(html, /"text":"0","showarrow":false,"font":\{"size":10,"color":"#222"\}/);
  const [check] = await checkPages([run.html]);
  assert.deepEqual(check.externalRequests, []);
  assert.deepEqual(check.pageErrors, []);
  assert.equal(check.plots, 2);
  assert.equal(check.rendered, 2);
  assert.equal(check.overflowing, 0, "no code line runs past the right edge");
  // Without the report stylesheet the long line would be cut off, and the check says so.
  const unstyled = path.join(dir, "unstyled.html");
  fs.writeFileSync(unstyled, html.replace(/<style id="poi-report-style">[\s\S]*?<\/style>/, ""));
  const [cut] = await checkPages([unstyled]);
  assert.ok(cut.overflowing >= 1 && !cut.ok, `the unstyled page has ${cut.overflowing} overflowing blocks`);
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

test("a cell that runs past the cell timeout fails the run with its source, and the partial report is still written", { timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-"));
  const file = path.join(dir, "03_slow.ipynb");
  writeNotebook(file, notebook([`console.log("before");`, `await new Promise((resolve) => setTimeout(resolve, 120_000));`]));
  const run = await executeNotebook(file, { reportsDir: dir, cellTimeout: 20 });
  assert.equal(run.ok, false);
  assert.match(run.error ?? "", /a cell timed out after 20 s/);
  assert.match(run.error ?? "", /setTimeout\(resolve, 120_000\)/);
  assert.match(fs.readFileSync(run.html, "utf8"), /before/);
});
