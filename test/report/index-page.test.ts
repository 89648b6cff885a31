import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkPages, NotebookRun, readReportSummary, writeIndexPage, writeReportSummary } from "../../lib/report";
import { barChart } from "../../lib/viz";

const run = (dir: string, name: string, ok: boolean): NotebookRun => ({
  notebook: path.join(dir, `${name}.ipynb`), name, title: `Title of ${name}`, html: path.join(dir, `${name}.html`), ok, seconds: 12.5, plots: 3,
});

test("the index links each report and says which failed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "index-"));
  const html = fs.readFileSync(writeIndexPage(dir, [run(dir, "01_a", true), run(dir, "02_b", false)]), "utf8");
  assert.match(html, /<a href="01_a\.html">Title of 01_a<\/a>/);
  assert.doesNotMatch(html, /href="02_b\.html"/);
  assert.match(html, /failed/);
  assert.match(html, /No evaluation summary yet/);
});

test("with the evaluation summary, the cover shows the chosen model, headline numbers and a chart that renders offline", { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "index-"));
  writeReportSummary({
    generatedAt: "2026-01-01T00:00:00Z",
    chosenModel: { name: "FusionNet", description: "metadata + image statistics + embedding", runId: "abc123", experiment: "05_fusion_models" },
    headline: [{ name: "test accuracy", value: 0.8812, on: "test split" }, { name: "CV macro-F1", value: 0.8766, std: 0.0123, on: "5 grouped folds" }],
    data: { rows: 1569, images: 1492 },
    comparison: [{ run: "FusionNet", accuracy: 0.88 }, { run: "majority", accuracy: 0.33 }],
    comparisonFigure: barChart(["FusionNet", "majority"], [0.88, 0.33], { title: "accuracy" }),
  }, dir);
  assert.equal(readReportSummary(dir)?.chosenModel.name, "FusionNet");
  const index = writeIndexPage(dir, [run(dir, "07_eval", true)]);
  const html = fs.readFileSync(index, "utf8");
  assert.match(html, /Chosen model: FusionNet/);
  assert.match(html, /0\.881/);
  assert.match(html, /0\.877<\/b> ± 0\.012/);
  assert.match(html, /majority/);
  const [check] = await checkPages([index]);
  assert.equal(check.plots, 1);
  assert.equal(check.rendered, 1);
  assert.deepEqual(check.externalRequests, []);
});
