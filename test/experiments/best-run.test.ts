import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startRun, searchRuns } from "../../lib/track";
import { chooseBestRun, recipeFromRun, checkpointOf, stdKeyOf } from "../../lib/experiments";

function store(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "evaluation-select-"));
}

function track(root: string, experiment: string, runName: string, params: Record<string, string | number>, metrics: Record<string, number>, status: "FINISHED" | "FAILED" | "KILLED" = "FINISHED"): void {
  const run = startRun({ experiment, runName, root });
  run.logParams(params);
  run.logMetrics(metrics);
  run.endRun(status);
}

test("chooseBestRun: best FINISHED run by the first selection key any run logged, never a test score", () => {
  const root = store();
  // An early-stopped run: its last epoch's val_f1_macro (0.97) is not the restored weights' score (0.80).
  track(root, "05_fusion_models", "a-split", { model: "FusionConcat", protocol: "single-split", seed: 42 }, { val_f1_macro: 0.97, final_val_f1_macro: 0.80, test_f1_macro: 0.99 });
  track(root, "05_fusion_models", "a-cv5", { model: "FusionConcat", protocol: "grouped-5-fold" }, { macro_f1_mean: 0.95, macro_f1_std: 0.01 });
  track(root, "06_tuning", "t1", { model: "NetEngagementPOIFinal" }, { val_f1_macro: 0.84, final_val_f1_macro: 0.84 });
  track(root, "06_tuning", "t2-failed", { model: "NetEngagementPOIFinal" }, { val_f1_macro: 0.99 }, "FAILED");
  track(root, "06_tuning", "t3-pruned", { model: "NetEngagementPOIFinal" }, { val_f1_macro: 0.98 }, "KILLED");
  const chosen = chooseBestRun(["05_fusion_models", "06_tuning"], { root });
  assert.equal(chosen.run.runName, "t1");
  assert.equal(chosen.key, "final_val_f1_macro");
  assert.equal(chosen.value, 0.84);
  assert.equal(chosen.candidates, 3);
  assert.equal(chosen.ranked, 2);
  assert.deepEqual(chosen.ranking.map((r) => r.runName), ["t1", "a-split"]);
  // Only CV runs: ranked by the CV mean, with its std.
  const cv = chooseBestRun(["05_fusion_models"], { root, keys: ["cv_f1_macro_mean", "macro_f1_mean"] });
  assert.equal(cv.run.runName, "a-cv5");
  assert.equal(cv.std, 0.01);
  assert.throws(() => chooseBestRun(["06_tuning"], { root, keys: ["test_f1_macro"] }), /test-split metric/);
});

test("chooseBestRun fails clearly when nothing is tracked", () => {
  const root = store();
  assert.throws(() => chooseBestRun(["05_fusion_models", "06_tuning"], { root }), /no FINISHED tracked run in experiment\(s\) 05_fusion_models, 06_tuning/);
  track(root, "06_tuning", "no-metric", { model: "X" }, { trial_seconds: 3 });
  assert.throws(() => chooseBestRun(["06_tuning"], { root }), /logged a selection metric/);
});

test("recipeFromRun reads tuning-objective trial params and notebook 05's TrainConfig spread", () => {
  const root = store();
  track(root, "06_tuning", "trial", {
    model: "FusionGated", architecture: "FusionGated", dropout_rate: 0.5, freeze_layers: 2, epochs: 20, batch_size: 64, lr: 0.003,
    weight_decay: 0.001, label_smoothing: 0.1, augmentation: "A2", seed: 7, data_seed: 42, augmented_variants: 2,
  }, { val_f1_macro: 0.8 });
  track(root, "05_fusion_models", "split", {
    model: "NetEngagementPOIFinal", protocol: "single-split", seed: 3, embedding_components: 64, epochs: 15, batchSize: 32,
    labelSmoothing: 0.05, dropout: 0.3, optimizer: JSON.stringify({ name: "adamw", lr: 0.002, weightDecay: 0.0005 }), checkpoint: "/tmp/ckpt",
  }, { val_f1_macro: 0.7 });
  const [trial] = searchRuns({ experiment: "06_tuning", root });
  const r = recipeFromRun(trial);
  assert.equal(r.protocol, "fixed-epochs");
  assert.equal(r.architecture, "FusionGated");
  assert.deepEqual([r.seed, r.dataSeed, r.epochs, r.batchSize, r.lr, r.weightDecay, r.labelSmoothing, r.dropout, r.freezeLayers, r.augmentation, r.variants], [7, 42, 20, 64, 0.003, 0.001, 0.1, 0.5, 2, "A2", 2]);
  assert.equal(r.embeddingComponents, undefined);
  assert.deepEqual(r.defaulted, []);
  const [split] = searchRuns({ experiment: "05_fusion_models", root });
  const s = recipeFromRun(split);
  assert.equal(s.protocol, "early-stopping");
  assert.deepEqual([s.seed, s.dataSeed, s.lr, s.weightDecay, s.embeddingComponents, s.augmentation], [3, 3, 0.002, 0.0005, 64, "none"]);
  assert.ok(s.defaulted.includes("freeze_layers"));
  assert.equal(checkpointOf(split), "/tmp/ckpt");
  assert.equal(checkpointOf(trial), null);
});

test("recipeFromRun refuses a run without an architecture and names bad params", () => {
  const root = store();
  track(root, "x", "no-arch", { lr: 0.1 }, { val_f1_macro: 0.5 });
  track(root, "y", "bad-lr", { model: "FusionConcat", lr: "fast" }, { val_f1_macro: 0.5 });
  assert.throws(() => recipeFromRun(searchRuns({ experiment: "x", root })[0]), /no "architecture"\/"model" param/);
  assert.throws(() => recipeFromRun(searchRuns({ experiment: "y", root })[0]), /param lr = "fast" is not a number/);
  assert.equal(stdKeyOf("cv_f1_macro_mean"), "cv_f1_macro_std");
  assert.equal(stdKeyOf("val_f1_macro"), null);
});
