import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { TARGET_COLUMNS, engagementScores, fitQuantileBins, type PoiRecord } from "../../lib/poi";
import { createRng } from "../../lib/util/random";
import { cvFolds, crossValidate, leakWarning, prepareFold, singleSplit, evaluateSingleSplit, partTensors, type ExperimentData } from "../../lib/experiments";
import { getArchitecture } from "../../lib/models";
import { poi } from "../poi/record-fixtures";

tf.setBackend("cpu");

/** 90 records (some ids duplicated, as in the real data) with image statistics that carry part of the signal. */
function fixture(seed = 1): ExperimentData {
  const rng = createRng(seed);
  const records: PoiRecord[] = [];
  const cats = ["Historia", "Escultura", "Pintura", "Patrimonio"];
  for (let i = 1; i <= 90; i++) {
    const dup = i % 15 === 0 ? i - 1 : i; // every 15th row repeats the previous POI
    const level = dup % 3;
    records.push(
      poi(i, {
        id: `id-${dup}`,
        mainImagePath: `data_main/id-${dup}/main.jpg`,
        categories: [cats[dup % 4]],
        tier: 1 + (dup % 3),
        xps: 100 * (1 + (dup % 7)),
        locationLat: 40 + rng.normal() * 0.5,
        locationLon: -3.7 + rng.normal() * 0.5,
        Visits: 10000,
        Likes: 200 + level * 900 + rng.int(100),
        Bookmarks: 100 + level * 300 + rng.int(50),
        Dislikes: 300 + rng.int(100),
      }),
    );
  }
  const width = 3;
  const data = new Float32Array(records.length * width);
  const scores = engagementScores(records, "M2");
  records.forEach((_, i) => {
    data[i * width] = scores[i] * 10 + rng.normal();
    data[i * width + 1] = rng.normal() * 5 + 100;
    data[i * width + 2] = 7; // constant column: scaled to 0, not NaN
  });
  return { dataDir: "/nowhere", records, stats: { columns: ["s_signal", "s_noise", "s_const"], rows: records.length, data } };
}

test("grouped k-fold: every row validates exactly once and rows sharing an id never straddle folds", () => {
  const data = fixture();
  const folds = cvFolds(data.records, { folds: 5, seed: 3 });
  assert.equal(folds.length, 5);
  const seen = new Map<number, number>();
  folds.forEach((f, k) => {
    for (const i of f.val) seen.set(i, (seen.get(i) ?? 0) + 1);
    const valIds = new Set(f.val.map((i) => data.records[i].id));
    for (const i of f.train) assert.ok(!valIds.has(data.records[i].id), `fold ${k}: id ${data.records[i].id} in train and val`);
    assert.equal(f.train.length + f.val.length, data.records.length);
  });
  assert.equal(seen.size, data.records.length);
  for (const c of seen.values()) assert.equal(c, 1);
  // Any seed works and gives another partition.
  assert.notDeepEqual(cvFolds(data.records, { folds: 5, seed: 4 }).map((f) => f.val), folds.map((f) => f.val));
});

test("tertile thresholds and scalers are fitted on the training rows only", () => {
  const data = fixture();
  const [fold] = cvFolds(data.records, { folds: 5, seed: 0 });
  const prepared = prepareFold(data, fold.train, fold.val, { seed: 0 });
  const trainScores = engagementScores(fold.train.map((i) => data.records[i]), "M2");
  assert.deepEqual(prepared.target.bins.thresholds, fitQuantileBins(trainScores, 3).thresholds);
  assert.equal(prepared.target.bins.fittedOn, fold.train.length);
  assert.equal(prepared.pipeline.fittedOn, fold.train.length);

  // Changing the test rows (their counts and their statistics) changes nothing fitted and no training input.
  const changed: ExperimentData = {
    ...data,
    records: data.records.map((r, i) => (fold.val.includes(i) ? { ...r, Likes: r.Likes * 50, Bookmarks: r.Bookmarks * 50 } : r)),
    stats: { ...data.stats, data: Float32Array.from(data.stats.data, (v, j) => (fold.val.includes(Math.floor(j / 3)) ? v + 1000 : v)) },
  };
  const again = prepareFold(changed, fold.train, fold.val, { seed: 0 });
  assert.deepEqual(again.target, prepared.target);
  assert.deepEqual(again.train.inputs, prepared.train.inputs);
  assert.deepEqual(again.train.y, prepared.train.y);

  // Standardised on train: the training statistics have mean 0; the constant column is 0, not NaN.
  const s = prepared.train.inputs.stats!;
  const n = prepared.train.indices.length;
  let m0 = 0;
  for (let r = 0; r < n; r++) m0 += s[r * 3];
  assert.ok(Math.abs(m0 / n) < 1e-4);
  for (let r = 0; r < n; r++) assert.equal(s[r * 3 + 2], 0);
  assert.throws(() => prepareFold(data, [0, 1, 2], [2, 3], { seed: 0 }), /row index 2 is in both train and test/);
});

test("leak guard: Visits/Likes/Dislikes/Bookmarks never reach a model input", () => {
  const data = fixture();
  const [fold] = cvFolds(data.records, { folds: 5, seed: 1 });
  const base = prepareFold(data, fold.train, fold.val, { seed: 1 });
  const rng = createRng(99);
  const scrambled: ExperimentData = {
    ...data,
    records: data.records.map((r) => {
      const copy: PoiRecord = { ...r };
      for (const c of TARGET_COLUMNS) copy[c] = 1 + rng.int(100000);
      return copy;
    }),
  };
  const other = prepareFold(scrambled, fold.train, fold.val, { seed: 1 });
  // Every model input is byte-identical; only the labels moved.
  assert.deepEqual(other.train.inputs, base.train.inputs);
  assert.deepEqual(other.test.inputs, base.test.inputs);
  assert.deepEqual(other.metaColumns, base.metaColumns);
  assert.notDeepEqual(other.train.y, base.train.y);
  for (const c of base.metaColumns) for (const t of TARGET_COLUMNS) assert.ok(!c.toLowerCase().includes(t.toLowerCase()), c);
  assert.equal(leakWarning(0.94), undefined);
  assert.match(leakWarning(0.96, "x")!, /audit the inputs/);
});

test("crossValidate: per-fold results, mean ± std, labels from train-fitted thresholds; same seed ⇒ same numbers", async () => {
  const data = fixture();
  const run = () => crossValidate(data, "logreg-meta-stats", { folds: 3, seed: 5, config: { epochs: 30 } });
  const a = await run();
  assert.equal(a.perFold.length, 3);
  assert.equal(a.model, "logreg-meta-stats");
  const accs = a.perFold.map((f) => f.accuracy);
  const mean = accs.reduce((x, y) => x + y, 0) / 3;
  assert.ok(Math.abs(a.accuracyMean - mean) < 1e-12);
  assert.ok(Math.abs(a.accuracyStd - Math.sqrt(accs.reduce((s, v) => s + (v - mean) ** 2, 0) / 3)) < 1e-12);
  assert.ok(a.accuracyMean > 0.6, `the signal column is learnt: ${a.accuracyMean}`);
  assert.equal(a.perFold.reduce((s, f) => s + f.testRows, 0), data.records.length);
  const b = await run();
  assert.deepEqual(b.perFold.map((f) => f.accuracy), accs);
  await assert.rejects(crossValidate(data, "FusionConcat", { folds: 3 }), /embeddings/);
});

test("single split: 72/13/15 grouped parts, early stopping on val; test scored only when asked", async () => {
  const data = fixture();
  const split = singleSplit(data.records, 42);
  assert.equal(split.train.length + split.val.length + split.test.length, data.records.length);
  const r = await evaluateSingleSplit(data, "MetaStatsMLP", { seed: 42, config: { epochs: 3 } });
  assert.deepEqual(r.sizes, { train: split.train.length, val: split.val.length, test: split.test.length });
  assert.equal(r.history.length, 3);
  assert.ok(r.history.every((e) => e.valLoss !== null));
  assert.equal(r.validation.confusion.flat().reduce((a, b) => a + b, 0), split.val.length);
  assert.equal(r.test, undefined);
  const withTest = await evaluateSingleSplit(data, "MetaStatsMLP", { seed: 42, config: { epochs: 3 }, scoreTest: true });
  assert.deepEqual(withTest.validation, r.validation);
  assert.equal(withTest.test!.confusion.flat().reduce((a, b) => a + b, 0), split.test.length);
});

test("single split: the validation score describes the returned weights (best epoch restored), not the last epoch", async () => {
  const data = fixture();
  // 12 epochs with patience 5 on a tiny fixture: early stopping restores an earlier epoch's weights.
  const r = await evaluateSingleSplit(data, "MetaStatsMLP", { seed: 7, config: { epochs: 12, optimizer: { name: "adamw", lr: 0.05, weightDecay: 0 } }, keepModel: true });
  const split = singleSplit(data.records, 7);
  const fold = prepareFold(data, split.train, split.val, { seed: 7 });
  assert.ok(r.stopReason, "the fixture should stop early, so that the restored epoch is not the last");
  const model = r.trained!;
  const tensors = partTensors(getArchitecture("MetaStatsMLP"), fold, fold.test);
  const proba = model.predict(tensors) as tf.Tensor2D;
  const predicted = (await proba.argMax(1).array()) as number[];
  tf.dispose([proba, ...tensors]);
  model.dispose();
  const acc = predicted.filter((p, i) => p === fold.test.y[i]).length / predicted.length;
  assert.ok(Math.abs(acc - r.validation.accuracy) < 1e-12, `recomputed ${acc} vs logged ${r.validation.accuracy}`);
});

test("prepareFold fits a fold once per process: the same data, rows and options return the fitted fold again", () => {
  const data = fixture();
  const [fold, other] = cvFolds(data.records, { folds: 5, seed: 0 });
  const first = prepareFold(data, fold.train, fold.val, { seed: 3 });
  assert.equal(prepareFold(data, fold.train.slice(), fold.val.slice(), { seed: 3 }), first);
  assert.notEqual(prepareFold(data, fold.train, fold.val, { seed: 4 }), first);
  assert.notEqual(prepareFold(data, other.train, other.val, { seed: 3 }), first);
  // Other data (a new records, statistics or embedding object) is fitted anew, even with equal contents.
  const copy: ExperimentData = { ...data, stats: { ...data.stats, data: data.stats.data.slice() } };
  const refitted = prepareFold(copy, fold.train, fold.val, { seed: 3 });
  assert.notEqual(refitted, first);
  assert.deepEqual(refitted.train.inputs, first.train.inputs);
});
