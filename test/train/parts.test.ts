import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  categoricalCrossEntropy,
  cosineLr,
  cosineSchedule,
  createOptimizer,
  crossEntropyPerSample,
  fit,
  oneCycleLr,
  reduceLROnPlateau,
  smoothedOneHot,
  type EpochRecord,
  type TrainingContext,
} from "../../lib/train";
import { blobs, tinyMlp } from "./helpers";

before(async () => {
  await tf.setBackend("cpu");
});

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("label smoothing moves s/K of the mass to every class (hand-computed loss)", () => {
  const targets = smoothedOneHot([0, 2], 3, 0.1);
  const t = targets.arraySync();
  [0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3].forEach((v, i) => close(t[0][i], v));
  [0.1 / 3, 0.1 / 3, 0.9 + 0.1 / 3].forEach((v, i) => close(t[1][i], v));
  const probs = tf.tensor2d([
    [0.7, 0.2, 0.1],
    [0.2, 0.3, 0.5],
  ]);
  const perSample = crossEntropyPerSample(targets, probs).arraySync();
  const hand0 = -((0.9 + 0.1 / 3) * Math.log(0.7) + (0.1 / 3) * Math.log(0.2) + (0.1 / 3) * Math.log(0.1));
  const hand1 = -((0.1 / 3) * Math.log(0.2) + (0.1 / 3) * Math.log(0.3) + (0.9 + 0.1 / 3) * Math.log(0.5));
  close(perSample[0], hand0);
  close(perSample[1], hand1);
  // Without smoothing it is plain −log p(true class).
  close(crossEntropyPerSample(smoothedOneHot([0], 3), tf.tensor2d([[0.7, 0.2, 0.1]])).arraySync()[0], -Math.log(0.7));
  // From logits: equals TF.js' softmaxCrossEntropy with the same smoothing.
  const logits = tf.tensor2d([
    [2, -1, 0.5],
    [0, 1, 3],
  ]);
  const ours = categoricalCrossEntropy(targets, logits, { fromLogits: true }).dataSync()[0];
  const reference = tf.losses.softmaxCrossEntropy(smoothedOneHot([0, 2], 3), logits, undefined, 0.1).dataSync()[0];
  close(ours, reference);
  assert.throws(() => smoothedOneHot([0], 3, 1), /labelSmoothing must be in \[0, 1\)/);
});

test("class weights scale each sample's loss; the mean is over the batch size (Keras)", () => {
  const targets = smoothedOneHot([0, 1], 3);
  const probs = tf.tensor2d([
    [0.5, 0.25, 0.25],
    [0.25, 0.5, 0.25],
  ]);
  const weighted = categoricalCrossEntropy(targets, probs, { sampleWeights: tf.tensor1d([2, 0.5]) }).dataSync()[0];
  close(weighted, (2 * -Math.log(0.5) + 0.5 * -Math.log(0.5)) / 2);
});

test("class weights reach the training loss: uniform weight 2 doubles it (Adam is scale-invariant)", async () => {
  const data = blobs(30, 1);
  const run = async (classWeights?: number[]): Promise<number> =>
    (await fit(tinyMlp(2), { x: data.x, y: data.y, epochs: 1, batchSize: 10, classWeights, optimizer: { name: "adam", lr: 0.01 }, verbose: 0 })).records[0].trainLoss;
  const plain = await run();
  close(await run([1, 1, 1]), plain, 1e-9);
  close((await run([2, 2, 2])) / plain, 2, 1e-3);
});

test("AdamW decays kernels (not biases) by lr·weightDecay, decoupled from the gradient", () => {
  const kernel = tf.variable(tf.tensor2d([
    [1, -2],
    [3, 4],
  ]));
  const bias = tf.variable(tf.tensor1d([1, 1]));
  const adamw = createOptimizer({ name: "adamw", lr: 0.1, weightDecay: 0.5 });
  adamw.step([kernel, bias], [tf.zerosLike(kernel), tf.zerosLike(bias)]);
  assert.deepEqual(Array.from(kernel.dataSync()), [1, -2, 3, 4].map((v) => Math.fround(v * (1 - 0.05))));
  assert.deepEqual(Array.from(bias.dataSync()), [1, 1]);
  adamw.dispose();
});

test("Adam and SGD-momentum updates equal TF.js' reference optimisers", () => {
  const grads = [tf.tensor1d([0.5, -1, 2]), tf.tensor1d([0.1, 0.3, -0.2]), tf.tensor1d([-1, 0.5, 0.5])];
  const pairs: Array<[ReturnType<typeof createOptimizer>, tf.Optimizer]> = [
    [createOptimizer({ name: "adam", lr: 0.01, epsilon: 1e-8 }), tf.train.adam(0.01, 0.9, 0.999, 1e-8)],
    [createOptimizer({ name: "sgd", lr: 0.1, momentum: 0.9 }), tf.train.momentum(0.1, 0.9)],
    [createOptimizer({ name: "sgd", lr: 0.1, momentum: 0.9, nesterov: true }), tf.train.momentum(0.1, 0.9, true)],
  ];
  for (const [ours, reference] of pairs) {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.tensor1d([1, 2, 3]));
    for (const g of grads) {
      ours.step([a], [g]);
      reference.applyGradients([{ name: b.name, tensor: g }]);
    }
    Array.from(a.dataSync()).forEach((v, i) => close(v, b.dataSync()[i], 1e-6));
    ours.dispose();
    reference.dispose();
  }
  assert.throws(() => createOptimizer({ name: "rmsprop" as "adam", lr: 0.1 }), /unknown optimizer "rmsprop"/);
});

test("cosine and one-cycle schedules follow their formulas (PyTorch OneCycleLR)", () => {
  close(cosineLr(0, 10, 1), 1);
  close(cosineLr(5, 10, 1), 0.5);
  close(cosineLr(10, 10, 1, 0.1), 0.1);
  close(cosineLr(0, 10, 1, 0, 2), 0.5, 1e-12);
  close(cosineLr(2, 10, 1, 0, 2), 1);
  const spec = { maxLr: 1 };
  close(oneCycleLr(0, 100, spec), 1 / 25);
  close(oneCycleLr(29, 100, spec), 1);
  close(oneCycleLr(99, 100, spec), 1 / 25 / 1e4);
  assert.ok(oneCycleLr(10, 100, spec) > oneCycleLr(5, 100, spec));
  assert.ok(oneCycleLr(60, 100, spec) < oneCycleLr(40, 100, spec));
});

test("the cosine schedule drives the optimizer's rate batch by batch inside fit", async () => {
  const data = blobs(20, 2);
  const history = await fit(tinyMlp(1), { x: data.x, y: data.y, epochs: 4, batchSize: 10, optimizer: { name: "sgd", lr: 0.2 }, callbacks: [cosineSchedule({ minLr: 0.01 })], verbose: 0 });
  // 2 steps per epoch, 8 in total: the rate recorded at an epoch's end is its last batch's.
  history.records.forEach((r, i) => close(r.lr, cosineLr(2 * i + 1, 8, 0.2, 0.01), 1e-12));
});

test("ReduceLROnPlateau waits out its cooldown and never goes below minLr (Keras semantics)", () => {
  const plateau = reduceLROnPlateau({ monitor: "val_loss", patience: 1, factor: 0.5, cooldown: 1, minLr: 0.3, minDelta: 0 });
  const optimizer = { lr: 1 } as TrainingContext["optimizer"];
  const ctx = { optimizer, history: [], epochs: 10, stepsPerEpoch: 1, stopTraining: false } as unknown as TrainingContext;
  plateau.onTrainBegin?.(ctx);
  const lrs: number[] = [];
  [1, 1, 1, 1, 1, 1].forEach((valLoss, i) => {
    plateau.onEpochEnd?.({ epoch: i + 1, valLoss } as EpochRecord, ctx);
    lrs.push(optimizer.lr);
  });
  // epoch 1 best; 2 reduce→0.5 (cooldown 1); 3 cooldown; 4 reduce→0.3 (min); then stays.
  assert.deepEqual(lrs, [1, 0.5, 0.5, 0.3, 0.3, 0.3]);
});
