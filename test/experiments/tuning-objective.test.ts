import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { partSource, runFusionTrial, BASE_TRIAL_CONFIG, type PartData, type PreparedFold, type TuningData } from "../../lib/experiments";
import { getArchitecture } from "../../lib/models";
import { setTrackingUri, searchRuns } from "../../lib/track";
import { createStudy, NopPruner, RandomSampler, TrialPruned, type Pruner } from "../../lib/tune";
import { createRng } from "../../lib/util";

before(async () => {
  await tf.setBackend("cpu");
});

const DIMS = { meta: 4, stats: 3, embedding: 6 };

function part(n: number, seed: number, offset: number): PartData {
  const rng = createRng(seed);
  const y = Array.from({ length: n }, (_, i) => i % 3);
  const fill = (w: number) => Float32Array.from({ length: n * w }, (_, k) => rng.normal() + y[Math.floor(k / w)]);
  return { indices: y.map((_, i) => i + offset), y, inputs: { meta: fill(DIMS.meta), stats: fill(DIMS.stats), embedding: fill(DIMS.embedding) } };
}

function fixture(): TuningData {
  const train = part(60, 1, 0);
  const fold = { train, test: part(30, 2, 60), dims: DIMS, metaColumns: ["a", "b", "c", "d"], classLabels: ["low", "medium", "high"] } as unknown as PreparedFold;
  // Variant k of every training row: the clean embedding shifted by 100·(k + 1), so a batch shows which one it read.
  const variants = [0, 1].map((k) => train.inputs.embedding!.map((v) => v + 100 * (k + 1)));
  return { experiment: {} as TuningData["experiment"], seed: 0, fold, variants: { A1: variants }, dataParams: { n_train: 60 } };
}

test("partSource refuses augmented variants whose width is not the fold's embedding width (e.g. not PCA-projected)", () => {
  const data = fixture();
  const spec = getArchitecture("NetEngagementPOIFinal");
  const rows = data.fold.train.indices.length;
  const rawWidth = [new Float32Array(rows * (DIMS.embedding * 2))];
  assert.throws(() => partSource(spec, data.fold, data.fold.train, rawWidth, 7), /variant 0 has .* expected .* × 6/);
});

test("partSource: training batches read a seeded augmented variant per epoch, evaluation the clean embedding", () => {
  const data = fixture();
  const spec = getArchitecture("NetEngagementPOIFinal");
  const source = partSource(spec, data.fold, data.fold.train, data.variants.A1, 7);
  const rows = [0, 5, 9];
  const read = (epoch: number, training: boolean) => {
    const [meta, emb] = source.batch(rows, { epoch, training }) as tf.Tensor[];
    const out = { meta: Array.from(meta.dataSync()), emb: Array.from(emb.dataSync()) };
    tf.dispose([meta, emb]);
    return out;
  };
  const clean = rows.flatMap((r) => Array.from(data.fold.train.inputs.embedding!.subarray(r * 6, r * 6 + 6)));
  assert.deepEqual(read(1, false).emb, clean);
  const e1 = read(1, true);
  assert.deepEqual(e1.meta, rows.flatMap((r) => Array.from(data.fold.train.inputs.meta!.subarray(r * 4, r * 4 + 4))));
  e1.emb.forEach((v, i) => {
    const shift = v - clean[i];
    assert.ok(Math.abs(shift - 100) < 1e-3 || Math.abs(shift - 200) < 1e-3, `shift ${shift}`);
  });
  assert.deepEqual(read(1, true).emb, e1.emb, "same epoch, same variants");
  const shifts = (e: number) => read(e, true).emb.filter((_, i) => i % 6 === 0).map((v, j) => Math.round(v - clean[j * 6]));
  const perEpoch = [1, 2, 3, 4, 5, 6].map((e) => shifts(e).join(","));
  assert.ok(new Set(perEpoch).size > 1, "variants change across epochs");
});

test("runFusionTrial: tracked run with params, per-epoch reports, frozen layers cut the trainable weights", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tuning-"));
  setTrackingUri(root);
  const data = fixture();
  const config = { ...BASE_TRIAL_CONFIG, epochs: 3, batchSize: 16, augmentation: "A1" };
  const study = createStudy({ direction: "maximize", sampler: new RandomSampler({ seed: 0 }), pruner: new NopPruner(), verbosity: 0 });
  let result = await runFusionTrial(data, { ...config, freezeLayers: 0 }, { track: { experiment: "t", runName: "plain" } });
  await study.optimize(async (trial) => {
    const r = await runFusionTrial(data, { ...config, freezeLayers: 5 }, { trial: trial, track: { experiment: "t", runName: "frozen", tags: { "tune.trial": String(trial.number) } } });
    assert.ok(r.params < result.params, `frozen ${r.params} < all ${result.params}`);
    return r.valF1;
  }, { nTrials: 1 });
  assert.ok(result.valF1 >= 0 && result.valF1 <= 1);
  assert.equal(result.epochs, 3);
  assert.deepEqual(Object.keys(study.trials[0].intermediateValues).map(Number), [1, 2, 3]);
  assert.equal(study.trials[0].state, "COMPLETE");
  const runs = searchRuns({ experiment: "t" });
  assert.equal(runs.length, 2);
  const frozen = runs.find((r) => r.runName === "frozen")!;
  assert.equal(frozen.status, "FINISHED");
  assert.equal(frozen.params.freeze_layers, "5");
  assert.equal(frozen.params.augmentation, "A1");
  assert.equal(frozen.tags["tune.trial"], "0");
  assert.ok(Number.isFinite(frozen.metrics.final_val_f1_macro));
  // Trials never score the test part: notebook 07 does, once, for the chosen model.
  assert.ok(Object.keys(frozen.metrics).every((k) => !k.startsWith("test")), Object.keys(frozen.metrics).join(", "));
});

test("runFusionTrial: a pruned trial throws TrialPruned and its run ends KILLED; unknown augmentation is refused", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tuning-"));
  setTrackingUri(root);
  const data = fixture();
  const always: Pruner = { prune: () => true };
  const study = createStudy({ direction: "maximize", sampler: new RandomSampler({ seed: 0 }), pruner: always, verbosity: 0 });
  let thrown: unknown;
  await study.optimize(async (trial) => {
    try {
      return (await runFusionTrial(data, { ...BASE_TRIAL_CONFIG, epochs: 4 }, { trial: trial, track: { experiment: "p", runName: "pruned" } })).valF1;
    } catch (error) {
      thrown = error;
      throw error;
    }
  }, { nTrials: 1 });
  assert.ok(thrown instanceof TrialPruned);
  assert.equal(study.trials[0].state, "PRUNED");
  assert.deepEqual(Object.keys(study.trials[0].intermediateValues), ["1"]);
  const [run] = searchRuns({ experiment: "p" });
  assert.equal(run.status, "KILLED");
  assert.equal(run.tags["trial.outcome"], "pruned");
  await assert.rejects(runFusionTrial(data, { ...BASE_TRIAL_CONFIG, augmentation: "A9" }), /no cached variants/);
});
