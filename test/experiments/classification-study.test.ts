import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import type { Dataset, DatasetItem, PixelStack } from "../../lib/data";
import { pixelStackImage } from "../../lib/data";
import {
  chooseExperiment,
  classifierGradCam,
  experimentSummaryRows,
  groupsAcrossParts,
  runExperiments,
  scoreClassifier,
  splitCountRows,
  stratifiedSubsample,
  subsetExperimentData,
  testExperiment,
  trainClassifier,
  type PreparedInputs,
} from "../../lib/experiments";
import { splitDataset } from "../../lib/features";
import { searchRuns, setTrackingUri } from "../../lib/track";

tf.setBackend("cpu");

/**
 * Three classes of 8×8 grayscale images told apart by brightness (dark / mid / bright) plus noise, already "decoded"
 * (a PixelStack, as prepareInputs makes for a small CNN), with one numeric metadata column that also carries the class.
 */
function brightness(perClass: number[], seed = 1): PreparedInputs {
  let state = seed;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const items: DatasetItem[] = [];
  const data: number[] = [];
  perClass.forEach((n, label) => {
    for (let i = 0; i < n; i++) {
      items.push({ id: `${label}-${i}`, row: items.length + 1, label, metadata: { level: label + random() - 0.5 }, group: `g${label}-${Math.floor(i / 2)}` });
      for (let p = 0; p < 64; p++) data.push(Math.max(0, Math.min(255, Math.round(40 + 80 * label + 60 * (random() - 0.5)))));
    }
  });
  const dataset: Dataset = { name: "brightness", source: "generated", classes: ["dark", "mid", "bright", "unused"].slice(0, perClass.length), items, metadata: [{ name: "level", kind: "numeric" }], skipped: [], droppedByClassFilter: 0, imageShape: { width: 8, height: 8, channels: 1 } };
  const pixels: PixelStack = { count: items.length, size: 8, channels: 1, data: Uint8Array.from(data) };
  return { dataset, backbone: "small-cnn", augment: "none", pixels };
}

function tempTracking(): string {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "study-")), "mlruns");
  setTrackingUri(root);
  return root;
}

const SMALL = { filters: [4], imageUnits: [8], metaUnits: [4], batchSize: 8, lr: 1e-2 } as const;

test("early stopping on validation macro-F1 keeps the best epoch, and the scores describe the weights kept", async () => {
  const inputs = brightness([20, 20, 20]);
  const parts = splitDataset(inputs.dataset, { seed: 0, valFraction: 0.25 });
  const fitted = await trainClassifier(inputs, parts, { ...SMALL, epochs: 12, earlyStopping: { patience: 3 }, seed: 0 });
  const records = fitted.history.records;
  const best = records.reduce((a, r) => (r.valF1Macro! > a.valF1Macro! ? r : a));
  assert.equal(fitted.epoch, best.epoch, "the kept epoch is the one with the best validation macro-F1 (the first on ties)");
  const val = await scoreClassifier(fitted, parts.val);
  assert.ok(Math.abs(val.macroF1 - best.valF1Macro!) < 1e-6, `validation macro-F1 of the kept weights ${val.macroF1} = the best epoch's ${best.valF1Macro}`);
  await assert.rejects(trainClassifier(inputs, { train: parts.train, val: [] }, { earlyStopping: { patience: 2 } }), /early stopping needs validation rows/);
});

test("runExperiments compares on validation, one tracked run each; only the chosen one is scored on test, once", async () => {
  const root = tempTracking();
  const inputs = brightness([24, 24, 12]);
  const parts = splitDataset(inputs.dataset, { seed: 1, valFraction: 0.25 });
  const results = await runExperiments(
    [
      { name: "image only", inputs, options: { ...SMALL, epochs: 4, metadata: false, seed: 0 } },
      { name: "metadata only", inputs, options: { ...SMALL, epochs: 4, image: false, classWeights: "balanced", seed: 0 } },
    ],
    parts,
    { experiment: "study" },
  );
  const chosen = chooseExperiment(results);
  assert.equal(chosen.val.macroF1, Math.max(...results.map((r) => r.val.macroF1)));
  assert.ok(results.every((r) => r.test === null), "no configuration is scored on test before the choice");
  const test = await testExperiment(chosen, parts.test);
  assert.equal(test.rows.length, parts.test.length);
  await assert.rejects(testExperiment(chosen, parts.test), /already scored on the test part/);
  const rows = experimentSummaryRows(results);
  assert.deepEqual(rows.map((r) => r.test_accuracy === null), results.map((r) => r !== chosen));
  const runs = searchRuns({ root, experiment: "study" });
  assert.equal(runs.length, 2);
  const tested = runs.filter((r) => r.metrics.test_acc !== undefined);
  assert.deepEqual(tested.map((r) => r.runId), [chosen.runId], "test metrics are logged to the chosen run only");
  for (const run of runs) assert.ok(run.metrics.final_val_f1_macro !== undefined && run.metrics.val_f1_macro !== undefined);
  assert.ok(fs.existsSync(path.join(root, runs[0].experimentId, chosen.runId, "artifacts", "test", "confusion_matrix.json")));
  await assert.rejects(runExperiments([{ name: "a", inputs, options: {} }], { train: parts.train, val: [] }, { experiment: "study" }), /compared on validation rows/);
});

test("a class subset keeps every row in its part, relabels in the subset's order and slices the inputs", () => {
  const inputs = brightness([10, 10, 10]);
  const parts = splitDataset(inputs.dataset, { seed: 2, valFraction: 0.2 });
  const sub = subsetExperimentData(inputs, parts, ["bright", "dark"]);
  assert.deepEqual(sub.inputs.dataset.classes, ["bright", "dark"]);
  assert.equal(sub.inputs.dataset.items.length, 20);
  assert.equal(sub.inputs.pixels!.data.length, 20 * 64);
  for (const part of ["train", "val", "test"] as const) {
    const ids = sub.parts[part].map((i) => sub.inputs.dataset.items[i].id).sort();
    const expected = parts[part].filter((i) => inputs.dataset.items[i].label !== 1).map((i) => inputs.dataset.items[i].id).sort();
    assert.deepEqual(ids, expected, `${part}: the same rows as in the full task`);
  }
  sub.inputs.dataset.items.forEach((item, i) => {
    const original = inputs.dataset.items.findIndex((o) => o.id === item.id);
    assert.equal(item.label, inputs.dataset.items[original].label === 2 ? 0 : 1);
    assert.deepEqual(sub.inputs.pixels!.data.subarray(i * 64, (i + 1) * 64), inputs.pixels!.data.subarray(original * 64, (original + 1) * 64));
  });
});

test("stratifiedSubsample keeps class shares and is seeded; split tables count parts and crossing groups", () => {
  const labels = [...Array(60).fill(0), ...Array(30).fill(1), ...Array(10).fill(2)];
  const rows = labels.map((_, i) => i);
  const sample = stratifiedSubsample(labels, rows, 20, 7);
  assert.deepEqual([0, 1, 2].map((c) => sample.filter((i) => labels[i] === c).length), [12, 6, 2]);
  assert.deepEqual(stratifiedSubsample(labels, rows, 20, 7), sample);
  assert.notDeepEqual(stratifiedSubsample(labels, rows, 20, 8), sample);
  assert.deepEqual(stratifiedSubsample(labels, rows.slice(0, 5), 20, 7), [0, 1, 2, 3, 4]);

  const { dataset } = brightness([4, 4]);
  const parts = { train: [0, 1, 4, 5], val: [2, 6], test: [3, 7] };
  const table = splitCountRows(dataset, parts);
  assert.deepEqual(table.map((r) => [r.class, r.train, r.val, r.test]), [["dark", 2, 1, 1], ["mid", 2, 1, 1], ["all", 4, 2, 2]]);
  // Groups are pairs of consecutive items per class: g0-0 = items 0, 1 (both train), g0-1 = items 2 (val), 3 (test).
  assert.deepEqual(groupsAcrossParts(dataset, parts), ["g0-1", "g1-1"]);
});

test("Grad-CAM of a fitted small CNN: one map per row, drawn over the pixels it read", async () => {
  const inputs = brightness([8, 8]);
  const parts = splitDataset(inputs.dataset, { seed: 0 });
  const fitted = await trainClassifier(inputs, { train: parts.train, val: [] }, { ...SMALL, epochs: 2, metadata: false, seed: 0 });
  const cams = await classifierGradCam(fitted, parts.test.slice(0, 3));
  assert.equal(cams.length, 3);
  for (const cam of cams) {
    assert.equal(cam.overlay.width, 8);
    assert.equal(cam.overlay.data.length, 8 * 8 * 3);
    assert.equal(cam.probabilities.length, 2);
  }
  const image = pixelStackImage(inputs.pixels!, 5);
  assert.deepEqual([image.data[0], image.data[1], image.data[2]], [inputs.pixels!.data[5 * 64], inputs.pixels!.data[5 * 64], inputs.pixels!.data[5 * 64]]);
  const metaOnly = await trainClassifier({ ...inputs, backbone: null, pixels: undefined }, { train: parts.train, val: [] }, { epochs: 1, seed: 0 });
  await assert.rejects(classifierGradCam(metaOnly, [0]), /reads metadata only/);
});
