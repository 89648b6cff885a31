import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileStore, startRun } from "../../lib/track";
import { bestRuns, compareRuns, comparisonFigure, metricSources, resolveMetric } from "../../lib/eval";

function tempStore(): FileStore {
  let now = 1_700_000_000_000;
  return new FileStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "eval-cmp-")), "mlruns"), { clock: () => (now += 1000) });
}

function logRun(store: FileStore, experiment: string, runName: string, metrics: Record<string, number>, params: Record<string, string> = {}, status: "FINISHED" | "FAILED" = "FINISHED") {
  const run = startRun({ store, experiment, runName });
  run.logParams(params);
  run.logMetrics(metrics);
  run.endRun(status);
}

test("metric lookup: CV mean ± std first, then test, final validation, validation; accuracy finds *_acc", () => {
  assert.deepEqual(metricSources("f1_macro").slice(0, 4), [
    ["cv_f1_macro_mean", "cv_f1_macro_std"],
    ["cv_f1_macro", null],
    ["test_f1_macro", null],
    ["final_val_f1_macro", null],
  ]);
  const store = tempStore();
  logRun(store, "04_metadata", "mlp", { cv_f1_macro_mean: 0.52, cv_f1_macro_std: 0.03, test_f1_macro: 0.5, test_acc: 0.55, val_f1_macro: 0.51 });
  logRun(store, "05_image", "mobilenet", { test_f1_macro: 0.44, val_accuracy: 0.47, val_f1_macro: 0.45 });
  logRun(store, "05_image", "small-cnn", { test_f1_macro: 0.38, val_f1_macro: 0.4 });
  logRun(store, "05_image", "crashed", { val_f1_macro: 0.9 }, {}, "FAILED");
  logRun(store, "06_fusion", "late", { cv_accuracy_mean: 0.6, cv_accuracy_std: 0.02, final_val_f1_macro: 0.57, val_f1_macro: 0.56 }, { fusion: "late" });
  const best = bestRuns(["04_metadata", "05_image", "06_fusion"], { store });
  assert.deepEqual(best.map((r) => r.runName), ["mlp", "mobilenet", "late"], "best finished run per experiment by val_f1_macro");
  assert.deepEqual(bestRuns(["05_image"], { store, perExperiment: 2 }).map((r) => r.runName), ["mobilenet", "small-cnn"]);

  assert.deepEqual(resolveMetric(best[0], "f1_macro"), { value: 0.52, std: 0.03, key: "cv_f1_macro_mean" });
  assert.deepEqual(resolveMetric(best[0], "accuracy"), { value: 0.55, std: null, key: "test_acc" });
  assert.deepEqual(resolveMetric(best[1], "accuracy"), { value: 0.47, std: null, key: "val_accuracy" });
  assert.equal(resolveMetric(best[1], "roc_auc"), null);

  const comparison = compareRuns(best, { params: ["fusion"] });
  assert.deepEqual(comparison.rows[2], {
    model: "late",
    experiment: "06_fusion",
    fusion: "late",
    f1_macro: 0.57,
    f1_macro_std: null,
    f1_macro_source: "final_val_f1_macro",
    accuracy: 0.6,
    accuracy_std: 0.02,
    accuracy_source: "cv_accuracy_mean",
  });
  const figure = comparisonFigure(comparison);
  assert.equal(figure.data.length, 2);
  const f1 = figure.data[0] as { x: string[]; y: number[]; error_y: { array: number[] } };
  assert.deepEqual(f1.x, ["mlp", "mobilenet", "late"]);
  assert.deepEqual(f1.y, [0.52, 0.44, 0.57]);
  assert.deepEqual(f1.error_y.array, [0.03, 0, 0]);
});

test("a configuration logged again by a notebook re-run is listed once, by its best run", () => {
  const store = tempStore();
  logRun(store, "05_image", "mobilenet", { val_f1_macro: 0.45 });
  logRun(store, "05_image", "mobilenet", { val_f1_macro: 0.47 });
  logRun(store, "05_image", "small-cnn", { val_f1_macro: 0.4 });
  const best = bestRuns(["05_image"], { store, perExperiment: 3 });
  assert.deepEqual(best.map((r) => [r.runName, r.metrics.val_f1_macro]), [["mobilenet", 0.47], ["small-cnn", 0.4]]);
});
