import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { classificationReport, confusionMatrixSvg, logEvaluation, trackedFit, trackingCallback, fit, type Callback } from "../../lib/train";
import { FileStore, searchRuns, startRun } from "../../lib/track";
import { blobs, tinyMlp } from "./helpers";

before(async () => {
  await tf.setBackend("cpu");
});

const CLASSES = ["low", "medium", "high"];

function tempRoot(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "train-track-")), "mlruns");
}

test("trackedFit logs params, per-epoch metrics, val/test reports and ends the run FINISHED", async () => {
  const root = tempRoot();
  const train = blobs(45, 1);
  const val = blobs(30, 2);
  const test_ = blobs(30, 3);
  const result = await trackedFit(
    tinyMlp(1),
    { x: train.x, y: train.y, validation: { x: val.x, y: val.y }, epochs: 3, batchSize: 16, seed: 4, optimizer: { name: "adamw", lr: 0.01, weightDecay: 1e-4 }, loss: { labelSmoothing: 0.1 }, classWeights: "balanced", verbose: 0 },
    { start: { root, experiment: "unit", runName: "mlp" }, params: { model: "mlp", hidden: 8 }, classNames: CLASSES, test: test_ },
  );
  const [summary] = searchRuns({ root, experiment: "unit" });
  assert.equal(summary.runName, "mlp");
  assert.equal(summary.status, "FINISHED");
  assert.deepEqual(summary.params, {
    batch_size: "16",
    class_weights: "balanced",
    epochs: "3",
    hidden: "8",
    label_smoothing: "0.1",
    lr: "0.01",
    model: "mlp",
    optimizer: "adamw",
    seed: "4",
    weight_decay: "0.0001",
  });
  for (const key of ["train_loss", "val_loss", "train_acc", "val_acc", "train_f1_macro", "val_f1_macro", "lr"]) {
    const history = result.run.metricHistory(key);
    assert.deepEqual(history.map((p) => p.step), [1, 2, 3], key);
  }
  assert.deepEqual(
    result.run.metricHistory("val_f1_macro").map((p) => p.value),
    result.history.records.map((r) => r.valF1Macro),
  );
  assert.equal(summary.metrics.test_f1_macro, result.test?.macroAvg["f1-score"]);
  const store = new FileStore(root);
  const artifacts = store.listArtifacts(store.findRun(result.run.runId));
  assert.deepEqual(artifacts, [
    "test/classification_report.json",
    "test/classification_report.txt",
    "test/confusion_matrix.json",
    "test/confusion_matrix.svg",
    "val/classification_report.json",
    "val/classification_report.txt",
    "val/confusion_matrix.json",
    "val/confusion_matrix.svg",
  ]);
  const text = fs.readFileSync(path.join(result.run.artifactsDir, "test", "classification_report.txt"), "utf8");
  assert.equal(text, result.test?.text);
  assert.match(text, /^ +precision +recall +f1-score +support\n\n +low /);
  const cm = JSON.parse(fs.readFileSync(path.join(result.run.artifactsDir, "val", "confusion_matrix.json"), "utf8"));
  assert.deepEqual(cm.labels, CLASSES);
  assert.equal(cm.matrix.flat().reduce((a: number, b: number) => a + b, 0), 30);
});

test("logEvaluation writes sklearn's report and a confusion-matrix chart", () => {
  const run = startRun({ root: tempRoot(), experiment: "eval" });
  const yTrue = [0, 1, 2, 2, 1, 0];
  const yPred = [0, 2, 2, 2, 1, 1];
  const report = logEvaluation(run, "test", yTrue, yPred, CLASSES);
  assert.equal(report.text, classificationReport(yTrue, yPred, [0, 1, 2], CLASSES).text);
  const svg = fs.readFileSync(path.join(run.artifactsDir, "test", "confusion_matrix.svg"), "utf8");
  assert.ok(svg.startsWith("<svg") && svg.includes(">medium</text>"));
  assert.equal(confusionMatrixSvg([[1]], ["<a&b>"]).includes("&lt;a&amp;b&gt;"), true);
  assert.equal(run.metricHistory("test_acc")[0].value, 4 / 6);
  run.endRun();
});

test("a training that crashes leaves a FAILED run with the epochs logged so far", async () => {
  const root = tempRoot();
  const run = startRun({ root, experiment: "crash", runName: "boom" });
  const data = blobs(30, 5);
  const crash: Callback = {
    onEpochEnd(record) {
      if (record.epoch === 2) throw new Error("out of memory (simulated)");
    },
  };
  await assert.rejects(fit(tinyMlp(1), { x: data.x, y: data.y, validation: { x: data.x, y: data.y }, epochs: 5, callbacks: [trackingCallback(run), crash], verbose: 0 }), /simulated/);
  const [summary] = searchRuns({ root, experiment: "crash" });
  assert.equal(summary.status, "FAILED");
  assert.equal(summary.tags["train.error"], "out of memory (simulated)");
  assert.deepEqual(run.metricHistory("train_loss").map((p) => p.step), [1, 2]);
});
