import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  earlyStopping,
  evaluate,
  fit,
  freezeLayers,
  loadCheckpoint,
  modelCheckpoint,
  reduceLROnPlateau,
  unfreezeAll,
  withSeed,
  type Callback,
  type EpochRecord,
} from "../../lib/train";
import { blobs, tinyMlp } from "./helpers";

before(async () => {
  await tf.setBackend("cpu");
});

function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** Weight values by name (getWeights() lists trainable weights first, so order changes when freezing). */
function namedWeights(model: tf.LayersModel): Record<string, number[]> {
  return Object.fromEntries(model.weights.map((w) => [w.name, Array.from(w.read().dataSync())]));
}

test("same seed ⇒ same initial weights, batch order, dropout and metrics; another seed differs", async () => {
  const train = blobs(60, 1);
  const val = blobs(30, 2);
  const runOnce = async (fitSeed: number): Promise<{ records: EpochRecord[]; weights: number[][] }> => {
    const model = tinyMlp(7, { dropout: 0.3 });
    const history = await fit(model, { x: train.x, y: train.y, validation: { x: val.x, y: val.y }, epochs: 3, batchSize: 8, seed: fitSeed, verbose: 0 });
    return { records: history.records.map((r) => ({ ...r, seconds: 0 })), weights: weightsOf(model) };
  };
  assert.deepEqual(weightsOf(tinyMlp(7)), weightsOf(tinyMlp(7)), "withSeed makes initialisation repeatable");
  assert.notDeepEqual(weightsOf(tinyMlp(7)), weightsOf(tinyMlp(8)));
  const a = await runOnce(11);
  const b = await runOnce(11);
  const c = await runOnce(12);
  assert.deepEqual(a.records, b.records);
  assert.deepEqual(a.weights, b.weights);
  assert.notEqual(a.records[0].trainLoss, c.records[0].trainLoss);
  assert.equal(a.records.length, 3);
  for (const r of a.records) {
    assert.ok(r.seconds === 0 && r.valLoss !== null && r.valAcc !== null && r.valF1Macro !== null);
    assert.ok(r.trainAcc >= 0 && r.trainAcc <= 1);
  }
});

test("training learns the blobs and the per-epoch record carries time and learning rate", async () => {
  const train = blobs(90, 3);
  const val = blobs(45, 4);
  const model = tinyMlp(1);
  const seen: EpochRecord[] = [];
  const history = await fit(model, {
    x: train.x,
    y: train.y,
    validation: { x: val.x, y: val.y },
    epochs: 15,
    batchSize: 16,
    optimizer: { name: "adam", lr: 0.03 },
    verbose: 0,
    onEpoch: (r) => {
      seen.push(r);
    },
  });
  assert.equal(seen.length, 15);
  const last = history.records[14];
  assert.ok(last.valAcc !== null && last.valAcc > 0.85, `val acc ${last.valAcc}`);
  assert.ok(last.trainLoss < history.records[0].trainLoss);
  assert.ok(history.records.every((r) => r.seconds > 0 && r.lr === 0.03));
  const evaluation = await evaluate(model, val.x, val.y);
  assert.ok(Math.abs(evaluation.loss - (last.valLoss as number)) < 1e-9, "validation = evaluate() after the last epoch");
});

test("no tensors leak across epochs or after training", async () => {
  const train = blobs(40, 5);
  const model = tinyMlp(2, { dropout: 0.2 });
  const start = tf.memory().numTensors;
  const counts: number[] = [];
  await fit(model, {
    x: train.x,
    y: train.y,
    validation: { x: train.x, y: train.y },
    epochs: 4,
    batchSize: 8,
    optimizer: { name: "adamw", lr: 0.01 },
    classWeights: "balanced",
    loss: { labelSmoothing: 0.1 },
    callbacks: [earlyStopping({ patience: 10 }), reduceLROnPlateau({ patience: 1 })],
    verbose: 0,
    onEpoch: () => {
      counts.push(tf.memory().numTensors);
    },
  });
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts per epoch: ${counts.join(", ")}`);
  assert.equal(tf.memory().numTensors, start, "optimizer state and best-weight snapshots are released");
});

/** From `fromEpoch` on, sets a huge learning rate so the model gets worse. */
function sabotage(fromEpoch: number): Callback {
  return {
    onEpochBegin(epoch, ctx) {
      if (epoch >= fromEpoch) ctx.optimizer.lr = 5;
    },
  };
}

test("early stopping stops after `patience` epochs without improvement and restores the best weights", async () => {
  const train = blobs(60, 6);
  const val = blobs(30, 7);
  const model = tinyMlp(3);
  const stopper = earlyStopping({ monitor: "val_loss", patience: 2, restoreBestWeights: true });
  const history = await fit(model, {
    x: train.x,
    y: train.y,
    validation: { x: val.x, y: val.y },
    epochs: 20,
    batchSize: 10,
    optimizer: { name: "sgd", lr: 0.1, momentum: 0.9 },
    callbacks: [sabotage(4), stopper],
    verbose: 0,
  });
  const losses = history.records.map((r) => r.valLoss as number);
  const bestIndex = losses.indexOf(Math.min(...losses));
  assert.ok(history.records.length < 20, "stopped early");
  assert.equal(stopper.bestEpoch, bestIndex + 1);
  assert.equal(stopper.stoppedEpoch, history.records.length);
  assert.equal(history.records.length, bestIndex + 1 + 2, "stops exactly `patience` epochs after the best");
  assert.match(history.stopReason ?? "", /early stopping: valLoss did not improve for 2 epochs/);
  const now = (await evaluate(model, val.x, val.y)).loss;
  assert.ok(Math.abs(now - losses[bestIndex]) < 1e-9, `restored val loss ${now} vs best ${losses[bestIndex]}`);
  assert.ok(Math.abs(now - losses[losses.length - 1]) > 1e-6, "the last epoch's weights were different");
});

test("early stopping can monitor validation macro-F1 (maximised)", async () => {
  const train = blobs(60, 8);
  const stopper = earlyStopping({ monitor: "val_f1_macro", patience: 1 });
  const history = await fit(tinyMlp(4), {
    x: train.x,
    y: train.y,
    validation: { x: train.x, y: train.y },
    epochs: 30,
    optimizer: { name: "sgd", lr: 0.5 },
    callbacks: [sabotage(3), stopper],
    verbose: 0,
  });
  const f1 = history.records.map((r) => r.valF1Macro as number);
  assert.equal(stopper.bestValue, Math.max(...f1));
  assert.ok(history.records.length < 30);
});

test("ReduceLROnPlateau lowers the rate after `patience` epochs without improvement", async () => {
  const train = blobs(30, 9);
  const plateau = reduceLROnPlateau({ monitor: "val_loss", patience: 2, factor: 0.5, minDelta: 0.5 });
  const history = await fit(tinyMlp(5), {
    x: train.x,
    y: train.y,
    validation: { x: train.x, y: train.y },
    epochs: 7,
    optimizer: { name: "sgd", lr: 1e-6 },
    callbacks: [plateau],
    verbose: 0,
  });
  // With a tiny rate the loss barely moves, so it never improves by minDelta after epoch 1.
  assert.deepEqual(
    history.records.map((r) => r.lr),
    [1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7, 2.5e-7],
  );
  assert.deepEqual(plateau.reductions, [
    { epoch: 3, lr: 5e-7 },
    { epoch: 5, lr: 2.5e-7 },
    { epoch: 7, lr: 1.25e-7 },
  ]);
});

test("freezing the first layer keeps its weights; freezing one weight tensor keeps only that one", async () => {
  const train = blobs(30, 10);
  const model = tinyMlp(6);
  const [first, head] = model.layers.map((l) => l.name);
  const result = freezeLayers(model, 1);
  assert.deepEqual(result.frozenLayers, [first]);
  assert.deepEqual(result.frozenWeights.sort(), [`${first}/bias`, `${first}/kernel`]);
  const before = namedWeights(model);
  await fit(model, { x: train.x, y: train.y, epochs: 2, optimizer: { name: "adam", lr: 0.05 }, verbose: 0 });
  const after = namedWeights(model);
  assert.deepEqual(after[`${first}/kernel`], before[`${first}/kernel`], "frozen kernel");
  assert.deepEqual(after[`${first}/bias`], before[`${first}/bias`], "frozen bias");
  assert.notDeepEqual(after[`${head}/kernel`], before[`${head}/kernel`], "head kernel trained");

  const model2 = tinyMlp(6);
  const [first2] = model2.layers.map((l) => l.name);
  assert.deepEqual(freezeLayers(model2, { weights: 1 }).frozenWeights, [`${first2}/kernel`]);
  const before2 = namedWeights(model2);
  await fit(model2, { x: train.x, y: train.y, epochs: 2, optimizer: { name: "adam", lr: 0.05 }, verbose: 0 });
  const after2 = namedWeights(model2);
  assert.deepEqual(after2[`${first2}/kernel`], before2[`${first2}/kernel`], "first weight tensor frozen");
  assert.notDeepEqual(after2[`${first2}/bias`], before2[`${first2}/bias`], "its bias still trains");
});

test("freezing the backbone (a nested model) of a two-input fusion model", async () => {
  const { model, backbone } = withSeed(3, () => {
    const backbone = tf.sequential({ name: "backbone", layers: [tf.layers.dense({ inputShape: [4], units: 6, activation: "relu" })] });
    const image = tf.input({ shape: [4], name: "image" });
    const meta = tf.input({ shape: [2], name: "meta" });
    const features = backbone.apply(image) as tf.SymbolicTensor;
    const merged = tf.layers.concatenate().apply([features, meta]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: "softmax" }).apply(merged) as tf.SymbolicTensor;
    return { model: tf.model({ inputs: [image, meta], outputs: out }), backbone };
  });
  const data = blobs(30, 11);
  const meta = tf.randomUniform([30, 2], 0, 1, "float32", 1);
  const result = freezeLayers(model, "backbone");
  assert.deepEqual(result.frozenLayers, ["backbone"]);
  const before = backbone.getWeights().map((w) => Array.from(w.dataSync()));
  const headBefore = Array.from(model.layers[model.layers.length - 1].getWeights()[0].dataSync());
  const history = await fit(model, { x: [data.x, meta], y: data.y, epochs: 2, batchSize: 10, verbose: 0 });
  assert.equal(history.records.length, 2);
  assert.deepEqual(
    backbone.getWeights().map((w) => Array.from(w.dataSync())),
    before,
  );
  assert.notDeepEqual(Array.from(model.layers[model.layers.length - 1].getWeights()[0].dataSync()), headBefore);
  await assert.rejects(fit(model, { x: data.x, y: data.y, epochs: 1, verbose: 0 }), /has 2 inputs but 1 tensors were given/);
});

test("the best checkpoint survives an interrupted training and loads back", async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-")), "best");
  const train = blobs(45, 12);
  const val = blobs(30, 13);
  const model = tinyMlp(9);
  const checkpoint = modelCheckpoint({ dir, monitor: "val_loss" });
  const predictionsAt = new Map<number, number[]>();
  const crash: Callback = {
    onEpochEnd(record) {
      predictionsAt.set(record.epoch, Array.from((model.predict(val.x) as tf.Tensor).dataSync()));
      if (record.epoch === 4) throw new Error("kernel interrupted");
    },
  };
  await assert.rejects(
    fit(model, { x: train.x, y: train.y, validation: { x: val.x, y: val.y }, epochs: 10, optimizer: { name: "adam", lr: 0.02 }, callbacks: [checkpoint, crash], verbose: 0 }),
    /kernel interrupted/,
  );
  const { model: restored, info } = await loadCheckpoint(dir);
  assert.ok(info !== null);
  const savedEpoch = checkpoint.savedEpochs[checkpoint.savedEpochs.length - 1];
  assert.equal(info.epoch, savedEpoch);
  const restoredPredictions = Array.from((restored.predict(val.x) as tf.Tensor).dataSync());
  const expected = predictionsAt.get(savedEpoch) as number[];
  restoredPredictions.forEach((p, i) => assert.ok(Math.abs(p - expected[i]) < 1e-6));
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files.filter((f) => f.endsWith(".bin")).length, 1, `one weights file: ${files.join(", ")}`);
  assert.ok(files.includes("model.json") && files.includes("checkpoint.json"));
});

test("an AbortSignal stops training cleanly between batches", async () => {
  const train = blobs(30, 14);
  const controller = new AbortController();
  const history = await fit(tinyMlp(1), {
    x: train.x,
    y: train.y,
    epochs: 10,
    verbose: 0,
    signal: controller.signal,
    onEpoch: (r) => {
      if (r.epoch === 2) controller.abort();
    },
  });
  assert.equal(history.interrupted, true);
  assert.equal(history.records.length, 2);
});

test("bad inputs are refused with messages that name the problem", async () => {
  const train = blobs(9, 15);
  await assert.rejects(fit(tinyMlp(1), { x: train.x, y: [0, 1], epochs: 1, verbose: 0 }), /x has 9 rows but y has 2 labels/);
  await assert.rejects(fit(tinyMlp(1), { x: train.x, y: train.y.map((v) => v + 1), epochs: 1, verbose: 0 }), /label 3 at index 2 is not a class index in \[0, 3\)/);
  await assert.rejects(fit(tinyMlp(1), { x: train.x, y: train.y, epochs: 0, verbose: 0 }), /epochs must be a positive integer/);
});

test("a frozen backbone's BatchNormalization keeps its moving statistics (inference mode, as Keras)", async () => {
  const build = (): { model: tf.LayersModel; backbone: tf.LayersModel } =>
    withSeed(5, () => {
      const backbone = tf.sequential({
        name: "bn_backbone",
        layers: [tf.layers.dense({ inputShape: [4], units: 6 }), tf.layers.batchNormalization(), tf.layers.activation({ activation: "relu" })],
      });
      const input = tf.input({ shape: [4] });
      const out = tf.layers.dense({ units: 3, activation: "softmax" }).apply(backbone.apply(input)) as tf.SymbolicTensor;
      return { model: tf.model({ inputs: input, outputs: out }), backbone };
    });
  const data = blobs(30, 16);
  const stats = (backbone: tf.LayersModel): Record<string, number[]> =>
    Object.fromEntries(backbone.layers[1].weights.map((w) => [w.name.split("/").pop() as string, Array.from(w.read().dataSync())]));

  const frozen = build();
  freezeLayers(frozen.model, "backbone");
  const before = stats(frozen.backbone);
  await fit(frozen.model, { x: data.x, y: data.y, epochs: 1, batchSize: 10, verbose: 0 });
  assert.deepEqual(stats(frozen.backbone), before);

  const free = build();
  const beforeFree = stats(free.backbone);
  await fit(free.model, { x: data.x, y: data.y, epochs: 1, batchSize: 10, verbose: 0 });
  const afterFree = stats(free.backbone);
  const movingKey = Object.keys(afterFree).find((k) => k.startsWith("moving_mean")) as string;
  assert.notDeepEqual(afterFree[movingKey], beforeFree[movingKey], "unfrozen batch norm updates its moving mean");
});

test("inputs can come from a BatchSource built per batch (e.g. on-the-fly augmentation)", async () => {
  const data = blobs(24, 17);
  const calls: Array<{ n: number; epoch: number; training: boolean }> = [];
  const source = {
    size: 24,
    batch(indices: readonly number[], ctx: { epoch: number; training: boolean }) {
      calls.push({ n: indices.length, epoch: ctx.epoch, training: ctx.training });
      return tf.tidy(() => tf.gather(data.x, tf.tensor1d(Int32Array.from(indices), "int32")).add(ctx.training ? 0.01 : 0));
    },
  };
  const model = tinyMlp(1);
  const start = tf.memory().numTensors;
  const history = await fit(model, { x: source, y: data.y, validation: { x: source, y: data.y }, epochs: 2, batchSize: 10, verbose: 0 });
  assert.equal(history.records.length, 2);
  const training = calls.filter((c) => c.training);
  assert.deepEqual(
    training.map((c) => [c.epoch, c.n]),
    [
      [1, 10],
      [1, 10],
      [1, 4],
      [2, 10],
      [2, 10],
      [2, 4],
    ],
  );
  assert.deepEqual(
    calls.filter((c) => !c.training).map((c) => c.n),
    [24, 24],
  );
  assert.equal(tf.memory().numTensors, start, "batch tensors are disposed");
});

test("a callback can unfreeze the backbone part-way through (fine-tuning)", async () => {
  const data = blobs(30, 18);
  const model = tinyMlp(2);
  const first = model.layers[0].name;
  freezeLayers(model, 1);
  const snapshots: number[][] = [];
  await fit(model, {
    x: data.x,
    y: data.y,
    epochs: 3,
    verbose: 0,
    optimizer: { name: "adam", lr: 0.05 },
    callbacks: [
      {
        onEpochBegin(epoch, ctx) {
          if (epoch === 3) unfreezeAll(ctx.model);
        },
        onEpochEnd() {
          snapshots.push(namedWeights(model)[`${first}/kernel`]);
        },
      },
    ],
  });
  assert.deepEqual(snapshots[1], snapshots[0], "frozen during epochs 1–2");
  assert.notDeepEqual(snapshots[2], snapshots[1], "trains after unfreezing at epoch 3");
});
