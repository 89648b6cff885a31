import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { createBackbone, hasPretrainedMobileNet } from "../../lib/engine";
import { augmentationPreset } from "../../lib/images";
import { searchRuns, type RunSummary } from "../../lib/track";
import {
  backboneClassifier,
  bestRun,
  denseHead,
  embeddingVariantSource,
  imageBatchSource,
  loadMobileNetV2AtSize,
  majorityClass,
  priorCrossEntropy,
  runsGrid,
  trackedMajorityBaseline,
} from "../../lib/experiments";

before(async () => {
  await tf.setBackend("cpu");
});

const CLASSES = ["low", "medium", "high"];

function weightsOf(model: tf.LayersModel): number[] {
  return model.getWeights().flatMap((w) => Array.from(w.dataSync()));
}

test("denseHead is the seed's head (Dense 128 relu, Dropout 0.3, softmax) with seeded weights", () => {
  const head = denseHead(20, { seed: 3 });
  assert.deepEqual(
    head.layers.map((l) => l.getClassName()),
    ["InputLayer", "Dense", "Dropout", "Dense"],
  );
  assert.equal(head.countParams(), 20 * 128 + 128 + 128 * 3 + 3);
  assert.equal((head.layers[2].getConfig() as { rate: number }).rate, 0.3);
  assert.equal((head.layers[3].getConfig() as { activation: string }).activation, "softmax");
  assert.deepEqual(weightsOf(head), weightsOf(denseHead(20, { seed: 3 })));
  assert.notDeepEqual(weightsOf(head), weightsOf(denseHead(20, { seed: 4 })));
  const out = head.predict(tf.ones([2, 20])) as tf.Tensor;
  assert.deepEqual(out.shape, [2, 3]);
  const sums = out.sum(-1).dataSync();
  sums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5));
  assert.throws(() => denseHead(0), /inputDim/);
  assert.throws(() => denseHead(4, { dropout: 1 }), /dropout/);
});

test("backboneClassifier puts the head on a trainable backbone: pixels → class probabilities", () => {
  const model = backboneClassifier(createBackbone("small-cnn", { inputSize: 16, seed: 0 }), { units: 8, seed: 1 });
  const out = model.predict(tf.zeros([2, 16, 16, 3])) as tf.Tensor;
  assert.deepEqual(out.shape, [2, 3]);
  assert.ok(model.trainableWeights.length > 4, "backbone and head weights are trainable");
});

function matrix(rows: number, dim: number, offset: number) {
  return { rows, data: Float32Array.from({ length: rows * dim }, (_, i) => offset + Math.floor(i / dim)) };
}

test("embeddingVariantSource: clean rows for evaluation, a seeded variant per sample and epoch for training", () => {
  const clean = matrix(6, 2, 0);
  const variants = [matrix(6, 2, 100), matrix(6, 2, 200), matrix(6, 2, 300)];
  const source = embeddingVariantSource(clean, variants, 7);
  assert.equal(source.size, 6);
  const evalBatch = source.batch([4, 1], { epoch: 1, training: false }) as tf.Tensor;
  assert.deepEqual(Array.from(evalBatch.dataSync()), [4, 4, 1, 1]);
  const all = [0, 1, 2, 3, 4, 5];
  const draw = (epoch: number) => Array.from((source.batch(all, { epoch, training: true }) as tf.Tensor).dataSync()).filter((_, i) => i % 2 === 0);
  const epoch1 = draw(1);
  epoch1.forEach((v, row) => {
    assert.ok([100, 200, 300].includes(v - row), `row ${row} value ${v} comes from a variant`);
  });
  assert.deepEqual(draw(1), epoch1, "same epoch ⇒ same variants");
  // A different batch composition does not change what a sample gets in that epoch.
  assert.deepEqual(Array.from((source.batch([3], { epoch: 1, training: true }) as tf.Tensor).dataSync()), [epoch1[3], epoch1[3]]);
  const epochs = [2, 3, 4, 5].map(draw);
  assert.ok(epochs.some((e) => JSON.stringify(e) !== JSON.stringify(epoch1)), "variants change across epochs");
  const again = Array.from((embeddingVariantSource(clean, variants, 7).batch(all, { epoch: 1, training: true }) as tf.Tensor).dataSync()).filter((_, i) => i % 2 === 0);
  assert.deepEqual(again, epoch1, "a re-created source with the same seed repeats");
  assert.throws(() => embeddingVariantSource(clean, [matrix(5, 2, 0)]), /variant 0/);
});

test("imageBatchSource scales to [-1, 1), augments only training batches, repeatably", () => {
  const img = (v: number) => ({ width: 4, height: 4, data: Float32Array.from({ length: 48 }, (_, i) => (i * 5 + v) % 256) });
  const images = [img(0), img(50), img(100)];
  const aug = augmentationPreset("A2");
  const source = imageBatchSource(images, { augmentation: aug, seed: 1 });
  const clean = source.batch([1], { epoch: 1, training: false }) as tf.Tensor;
  assert.deepEqual(clean.shape, [1, 4, 4, 3]);
  assert.deepEqual(Array.from(clean.dataSync()), Array.from(images[1].data, (v) => (v - 128) / 128));
  const a = Array.from((source.batch([0, 1, 2], { epoch: 2, training: true }) as tf.Tensor).dataSync());
  const b = Array.from((imageBatchSource(images, { augmentation: aug, seed: 1 }).batch([0, 1, 2], { epoch: 2, training: true }) as tf.Tensor).dataSync());
  assert.deepEqual(a, b);
  const unaugmented = Array.from((source.batch([0, 1, 2], { epoch: 2, training: false }) as tf.Tensor).dataSync());
  assert.notDeepEqual(a, unaugmented);
  assert.throws(() => imageBatchSource([img(0), { width: 2, height: 2, data: new Float32Array(12) }]), /image 1 is 2×2/);
});

test("majorityClass and the prior cross-entropy", () => {
  assert.equal(majorityClass([2, 1, 2, 0, 1], 3), 1, "ties go to the lower class");
  assert.equal(majorityClass([2, 2, 0], 3), 2);
  assert.throws(() => majorityClass([0, 3], 3), /label 3 at index 1/);
  assert.ok(Math.abs(priorCrossEntropy([0, 1], [0.5, 0.5, 0]) - Math.log(2)) < 1e-12);
});

test("trackedMajorityBaseline logs params, one epoch of metrics and the val/test artifacts", () => {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "baselines-")), "mlruns");
  const result = trackedMajorityBaseline({
    start: { root, experiment: "unit", runName: "majority" },
    yTrain: [0, 1, 1, 2, 1],
    yVal: [1, 1, 0, 2],
    yTest: [2, 2, 1],
    classNames: CLASSES,
    params: { seed: 42 },
  });
  assert.equal(result.majority, 1);
  const [run] = searchRuns({ root, experiment: "unit" });
  assert.equal(run.status, "FINISHED");
  assert.equal(run.params.model, "majority");
  assert.equal(run.params.majority_class, "medium");
  assert.equal(run.params.seed, "42");
  assert.equal(run.metrics.val_acc, 0.5);
  assert.equal(run.metrics.final_val_acc, 0.5);
  assert.ok(Math.abs(run.metrics.test_acc - 1 / 3) < 1e-12);
  assert.ok(Math.abs(run.metrics.train_loss - priorCrossEntropy([0, 1, 1, 2, 1], [0.2, 0.6, 0.2])) < 1e-9);
  const artifacts = path.join(root, run.experimentId, run.runId, "artifacts");
  for (const split of ["val", "test"]) {
    for (const file of ["classification_report.txt", "classification_report.json", "confusion_matrix.json", "confusion_matrix.svg"]) {
      assert.ok(fs.existsSync(path.join(artifacts, split, file)), `${split}/${file}`);
    }
  }
});

function summary(name: string, params: Record<string, string>, metrics: Record<string, number>): RunSummary {
  return { runId: name, runName: name, experimentId: "1", experimentName: "e", status: "FINISHED", startTime: 0, endTime: 1, durationSeconds: 0.001, params, metrics, tags: {}, artifactUri: "" };
}

test("runsGrid pivots runs into bar-chart series; bestRun picks the highest metric", () => {
  const runs = [
    summary("a", { backbone: "cnn", preset: "A1" }, { f1: 0.3 }),
    summary("b", { backbone: "mnv2", preset: "A1" }, { f1: 0.5 }),
    summary("c", { backbone: "cnn", preset: "A2" }, { f1: 0.4 }),
  ];
  const grid = runsGrid(runs, { category: "params.preset", series: "params.backbone", metric: "metrics.f1" });
  assert.deepEqual(grid.categories, ["A1", "A2"]);
  assert.deepEqual(grid.values.cnn, [0.3, 0.4]);
  assert.deepEqual(grid.values.mnv2[0], 0.5);
  assert.ok(Number.isNaN(grid.values.mnv2[1]));
  assert.equal(bestRun(runs, "metrics.f1").runId, "b");
  assert.throws(() => runsGrid([...runs, runs[0]], { category: "params.preset", series: "params.backbone", metric: "metrics.f1" }), /two runs/);
  assert.throws(() => bestRun(runs, "metrics.nope"), /no run has/);
});

test("loadMobileNetV2AtSize runs the ImageNet MobileNetV2 at 128 px", { skip: !hasPretrainedMobileNet() }, async () => {
  const backbone = await loadMobileNetV2AtSize(128);
  assert.equal(backbone.inputSize, 128);
  assert.equal(backbone.embeddingSize, 1280);
  assert.deepEqual(backbone.model.inputs[0].shape, [null, 128, 128, 3]);
  const out = backbone.embed(tf.fill([1, 128, 128, 3], 128) as tf.Tensor4D);
  assert.deepEqual(out.shape, [1, 1280]);
  assert.ok(out.dataSync().every((v) => Number.isFinite(v) && v >= 0), "post-relu6 average pool");
});
