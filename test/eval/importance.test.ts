import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { blockFromRows, hstack, type FeatureMatrix } from "../../lib/features";
import { withSeed } from "../../lib/train";
import { createRng } from "../../lib/util/random";
import { attributionFigure, groupColumns, modelPredictFn, permutationImportance, permutationImportanceFigure, shapleySampling } from "../../lib/eval";

before(async () => {
  await tf.setBackend("cpu");
});

/** 3 groups: "signal" (1 column) decides the class; "noise" (2 columns) and "onehot" (2 columns, one-hot) do not. */
function synthetic(n: number, seed: number): { X: FeatureMatrix; y: number[] } {
  const rng = createRng(seed);
  const signal: number[][] = [];
  const noise: number[][] = [];
  const onehot: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = rng.normal();
    signal.push([s]);
    noise.push([rng.normal(), rng.normal()]);
    const k = rng.int(2);
    onehot.push(k === 0 ? [1, 0] : [0, 1]);
    y.push(s > 0 ? 1 : 0);
  }
  const X = hstack([blockFromRows("signal", ["s"], signal), blockFromRows("noise", ["n1", "n2"], noise), blockFromRows("onehot", ["h0", "h1"], onehot)]);
  return { X, y };
}

function rowsOf(X: FeatureMatrix): number[][] {
  const w = X.columns.length;
  return Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * w, (r + 1) * w)));
}

/** Logistic regression on every column, fitted by gradient descent (it can use the noise if it wants to). */
function fitLogistic(X: FeatureMatrix, y: number[]): (X: FeatureMatrix) => number[][] {
  const rows = rowsOf(X);
  const w = new Array<number>(X.columns.length).fill(0);
  let b = 0;
  for (let epoch = 0; epoch < 300; epoch++) {
    const gw = new Array<number>(w.length).fill(0);
    let gb = 0;
    rows.forEach((x, i) => {
      const p = 1 / (1 + Math.exp(-(b + x.reduce((s, v, j) => s + v * w[j], 0))));
      x.forEach((v, j) => (gw[j] += ((p - y[i]) * v) / rows.length));
      gb += (p - y[i]) / rows.length;
    });
    w.forEach((_, j) => (w[j] -= 1.0 * gw[j]));
    b -= 1.0 * gb;
  }
  return (M) =>
    rowsOf(M).map((x) => {
      const p = 1 / (1 + Math.exp(-(b + x.reduce((s, v, j) => s + v * w[j], 0))));
      return [1 - p, p];
    });
}

test("permutation importance: only the group that matters has importance clearly above zero", async () => {
  const train = synthetic(400, 1);
  const test_ = synthetic(300, 2);
  const predict = fitLogistic(train.X, train.y);
  const result = await permutationImportance(predict, test_.X, test_.y, { repeats: 5, seed: 7 });
  assert.equal(result.scoring, "f1_macro");
  assert.ok(result.baseline > 0.9, `baseline macro-F1 ${result.baseline}`);
  assert.equal(result.importances[0].group, "signal");
  const byGroup = Object.fromEntries(result.importances.map((g) => [g.group, g]));
  assert.ok(byGroup.signal.mean > 0.3, `signal ${byGroup.signal.mean}`);
  assert.ok(byGroup.signal.mean > 10 * byGroup.signal.std);
  for (const group of ["noise", "onehot"]) assert.ok(Math.abs(byGroup[group].mean) < 0.03, `${group} ${byGroup[group].mean}`);
  assert.equal(byGroup.noise.columns, 2);
  assert.equal(byGroup.signal.values.length, 5);
  // std is numpy's population std of the repeats.
  const v = byGroup.signal.values;
  const mean = v.reduce((a, c) => a + c, 0) / v.length;
  assert.ok(Math.abs(byGroup.signal.std - Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length)) < 1e-12);
});

test("permutation importance of a model that ignores a group is exactly zero; groups move as a block; seeded", async () => {
  const { X, y } = synthetic(200, 3);
  const calls: number[] = [];
  const predict = (M: FeatureMatrix) => {
    calls.push(M.rows);
    return rowsOf(M).map((x) => {
      assert.equal(x[3] + x[4], 1, "a one-hot block stays one-hot after permutation");
      const p = 1 / (1 + Math.exp(-4 * x[0]));
      return [1 - p, p];
    });
  };
  const a = await permutationImportance(predict, X, y, { repeats: 3, seed: 11, scoring: "accuracy" });
  const byGroup = Object.fromEntries(a.importances.map((g) => [g.group, g]));
  assert.deepEqual(byGroup.noise.values, [0, 0, 0]);
  assert.deepEqual(byGroup.onehot.values, [0, 0, 0]);
  assert.ok(byGroup.signal.mean > 0.3);
  assert.deepEqual(calls, [200, 600, 600, 600], "baseline, then one call per group with all repeats stacked");
  const b = await permutationImportance(predict, X, y, { repeats: 3, seed: 11, scoring: "accuracy" });
  assert.deepEqual(b, a);
  const c = await permutationImportance(predict, X, y, { repeats: 3, seed: 12, scoring: "accuracy", groups: ["signal"] });
  assert.notDeepEqual(c.importances[0].values, byGroup.signal.values);
  const figure = permutationImportanceFigure(a);
  assert.match((figure.data[0] as { y: string[] }).y.at(-1) as string, /^signal  0\.\d{3} ± 0\.\d{3}$/);
  await assert.rejects(() => permutationImportance(predict, X, y.slice(1)), /199 labels/);
  await assert.rejects(() => permutationImportance(predict, X, y, { groups: ["nope"] }), /no feature group "nope"/);
});

function linearModel(weights: number[], bias: number) {
  return (M: FeatureMatrix) =>
    rowsOf(M).map((x) => {
      const z = bias + x.reduce((s, v, j) => s + v * weights[j], 0);
      return [z, -z];
    });
}

test("Shapley sampling on a linear model: exact attributions w·(x − z) and efficiency Σφ = f(x) − f(baseline)", async () => {
  const { X } = synthetic(20, 4);
  const weights = [2, -1, 0.5, 3, -2];
  const predict = linearModel(weights, 0.25);
  const zero: FeatureMatrix = { columns: X.columns, rows: 1, data: new Float32Array(5), groups: X.groups };
  const result = await shapleySampling(predict, X, 3, { background: zero, samples: 16, seed: 1, classIndex: 0 });
  const x = rowsOf(X)[3];
  const expected: Record<string, number> = { signal: 2 * x[0], noise: -1 * x[1] + 0.5 * x[2], onehot: 3 * x[3] - 2 * x[4] };
  for (const a of result.attributions) assert.ok(Math.abs(a.value - expected[a.group]) < 1e-5, `${a.group}: ${a.value} vs ${expected[a.group]}`);
  assert.ok(Math.abs(result.baseValue - 0.25) < 1e-6);
  const sum = result.attributions.reduce((s, a) => s + a.value, 0);
  assert.ok(Math.abs(sum - (result.prediction - result.baseValue)) < 1e-5);
  // Sorted by |value|.
  const magnitudes = result.attributions.map((a) => Math.abs(a.value));
  assert.deepEqual(magnitudes, [...magnitudes].sort((p, q) => q - p));

  // Background of many rows: still efficient w.r.t. the mean prediction over the sampled background rows.
  const many = await shapleySampling(predict, X, 5, { background: X, samples: 40, seed: 2, classIndex: 0 });
  const manySum = many.attributions.reduce((s, a) => s + a.value, 0);
  assert.ok(Math.abs(manySum - (many.prediction - many.baseValue)) < 1e-5);
});

test("Shapley sampling splits an interaction evenly (paired orders) and stays efficient for a non-linear model", async () => {
  const X: FeatureMatrix = {
    columns: ["a", "b", "c"],
    rows: 1,
    data: Float32Array.from([2, 3, 1]),
    groups: { a: ["a"], b: ["b"], c: ["c"] },
  };
  const zero: FeatureMatrix = { ...X, data: new Float32Array(3) };
  // f = a·b + c (a probability-like second column is not needed: class 0 is explained).
  const predict = (M: FeatureMatrix) => rowsOf(M).map(([a, b, c]) => [a * b + c, 0]);
  const result = await shapleySampling(predict, X, 0, { background: zero, samples: 10, seed: 3 });
  const byGroup = Object.fromEntries(result.attributions.map((a) => [a.group, a.value]));
  // True Shapley values: a and b share the interaction 6 equally, c gets 1.
  assert.ok(Math.abs(byGroup.a - 3) < 1e-9 && Math.abs(byGroup.b - 3) < 1e-9, JSON.stringify(byGroup));
  assert.equal(byGroup.c, 1);
  assert.equal(result.prediction, 7);
  assert.equal(result.classIndex, 0, "default: the predicted class");
  const figure = attributionFigure(result, { className: "high" });
  assert.match(String((figure.layout.title as { text: string }).text), /P\(high\) = 7\.000/);
  await assert.rejects(() => shapleySampling(predict, X, 1, { background: zero }), /row 1 out of range/);
});

test("modelPredictFn: a tfjs model (one input, or several built from feature groups) as a predict function", async () => {
  const { X, y } = synthetic(60, 9);
  const single = withSeed(1, () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [5], units: 2, activation: "softmax" }));
    return m;
  });
  const two = withSeed(2, () => {
    const a = tf.input({ shape: [1] });
    const b = tf.input({ shape: [4] });
    const joined = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    return tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 2 }).apply(joined) as tf.SymbolicTensor });
  });
  const before = tf.memory().numTensors;
  const proba = await modelPredictFn(single)(X);
  const x = tf.tensor2d(X.data, [X.rows, 5]);
  const out = single.predict(x) as tf.Tensor;
  const expected = out.arraySync() as number[][];
  tf.dispose([x, out]);
  proba.forEach((row, i) => Array.from(row).forEach((v, k) => assert.ok(Math.abs(v - expected[i][k]) < 1e-6)));
  // Two inputs: the signal column and the rest, in the order the groups are listed.
  assert.deepEqual(groupColumns(X, ["onehot", "signal"]).width, 3);
  assert.deepEqual(Array.from(groupColumns(X, ["onehot", "signal"]).data.subarray(0, 3)), [X.data[3], X.data[4], X.data[0]]);
  const predict = modelPredictFn(two, { inputGroups: [["signal"], ["noise", "onehot"]] });
  const twoProba = await predict(X);
  twoProba.forEach((row) => assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-5, "logits model → softmax"));
  const result = await permutationImportance(predict, X, y, { repeats: 2 });
  assert.equal(result.importances.length, 3);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  await assert.rejects(async () => modelPredictFn(two)(X), /takes 2 inputs/);
});
