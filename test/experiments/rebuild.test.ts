import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { engagementScores, type PoiRecord } from "../../lib/poi";
import { createRng } from "../../lib/util/random";
import { modelPredictFn } from "../../lib/eval";
import {
  RECIPE_DEFAULTS,
  type ExperimentData,
  type TrainingRecipe,
  architectureFromName,
  prepareEvaluation,
  retrainRecipe,
  predictSplit,
  evaluationMatrix,
  inputGroupsOf,
  modelGroups,
  embeddingLogitHead,
  embeddingTransformTensor,
  applyEmbeddingTransform,
} from "../../lib/experiments";
import { poi } from "../poi/record-fixtures";

tf.setBackend("cpu");

/** 120 records, image statistics and a 12-d "embedding", both carrying part of the engagement signal. */
function fixture(seed = 1): ExperimentData {
  const rng = createRng(seed);
  const records: PoiRecord[] = [];
  const cats = ["Historia", "Escultura", "Pintura", "Patrimonio"];
  for (let i = 1; i <= 120; i++) {
    const level = i % 3;
    records.push(
      poi(i, {
        id: `id-${i}`,
        mainImagePath: `data_main/id-${i}/main.jpg`,
        categories: [cats[i % 4]],
        tier: 1 + (i % 4),
        xps: 100 * (1 + (i % 7)),
        locationLat: 40 + rng.normal() * 0.5,
        locationLon: -3.7 + rng.normal() * 0.5,
        Visits: 10000,
        Likes: 200 + level * 900 + rng.int(100),
        Bookmarks: 100 + level * 300 + rng.int(50),
        Dislikes: 300 + rng.int(100),
      }),
    );
  }
  const scores = engagementScores(records, "M2");
  const stats = new Float32Array(records.length * 2);
  const d = 12;
  const emb = new Float32Array(records.length * d);
  records.forEach((_, i) => {
    stats[i * 2] = scores[i] * 10 + rng.normal();
    stats[i * 2 + 1] = rng.normal();
    for (let j = 0; j < d; j++) emb[i * d + j] = (j < 3 ? scores[i] * 5 : 0) + rng.normal() * (1 + j) + 3;
  });
  return {
    dataDir: "/nowhere",
    records,
    stats: { columns: ["s_signal", "s_noise"], rows: records.length, data: stats },
    embedding: { backbone: "fixture", columns: Array.from({ length: d }, (_, j) => `emb_${j}`), rows: records.length, data: emb },
  };
}

function recipe(overrides: Partial<TrainingRecipe> = {}): TrainingRecipe {
  return { ...RECIPE_DEFAULTS, protocol: "fixed-epochs", architecture: "FusionConcat", epochs: 3, embeddingComponents: 4, defaulted: [], ...overrides };
}

test("architectureFromName reads lib/models names and the image-input suffix", () => {
  assert.equal(architectureFromName("FusionGated").fusion, "gated");
  const s = architectureFromName("NetEngagementPOIFinal[embedding+stats]");
  assert.equal(s.image, "embedding+stats");
  assert.deepEqual(s.meta, [64, 32, 16]);
  assert.throws(() => architectureFromName("NetEngagementPOIFinal[pixels]"), /unknown image inputs/);
  assert.throws(() => architectureFromName("NoSuchNet"), /unknown model/);
});

test("the embedding transform (PCA + scaler) reproduces the fold's inputs, in JS and as tensors", async () => {
  const data = fixture();
  const prepared = await prepareEvaluation(data, recipe());
  assert.equal(prepared.fold.dims.embedding, 4);
  const t = prepared.embeddingTransform!;
  assert.ok(t.pca);
  const raw = data.embedding!;
  const rows = prepared.test.indices;
  const sub = { columns: raw.columns, rows: rows.length, data: Float32Array.from(rows.flatMap((r) => Array.from(raw.data.subarray(r * 12, (r + 1) * 12)))) };
  const js = applyEmbeddingTransform(t, sub);
  const expected = prepared.test.inputs.embedding!;
  js.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4, `row-major value ${i}: ${v} vs ${expected[i]}`));
  const tt = embeddingTransformTensor(t);
  const out = tf.tidy(() => tt.apply(tf.tensor2d(sub.data, [rows.length, 12])).dataSync());
  tt.dispose();
  out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-3, `tensor value ${i}: ${v} vs ${expected[i]}`));
});

test("retrainRecipe is seeded: the same recipe gives the same model; the early-stopping protocol trains too", async () => {
  const data = fixture();
  const prepared = await prepareEvaluation(data, recipe());
  const a = await retrainRecipe(prepared, recipe());
  const b = await retrainRecipe(prepared, recipe());
  assert.equal(a.history.records.length, 3);
  assert.equal(a.valF1Macro, b.valF1Macro);
  assert.deepEqual(await predictSplit(a.model, a.spec, prepared.fold, prepared.test), await predictSplit(b.model, b.spec, prepared.fold, prepared.test));
  const c = await retrainRecipe(prepared, recipe({ seed: 5 }));
  assert.notDeepEqual(await predictSplit(a.model, a.spec, prepared.fold, prepared.test), await predictSplit(c.model, c.spec, prepared.fold, prepared.test));
  const es = await retrainRecipe(prepared, recipe({ protocol: "early-stopping", architecture: "MetaStatsMLP", epochs: 4 }));
  assert.ok(es.history.records.length >= 1 && es.history.records.length <= 4);
  assert.ok(es.valF1Macro >= 0 && es.valF1Macro <= 1);
  [a, b, c, es].forEach((m) => m.model.dispose());
});

test("evaluationMatrix + inputGroupsOf feed the model exactly its inputs; the Grad-CAM head gives its logits", async () => {
  const data = fixture();
  const r = recipe({ architecture: "FusionGated" });
  const prepared = await prepareEvaluation(data, r);
  const trained = await retrainRecipe(prepared, r);
  const X = evaluationMatrix(prepared, prepared.test);
  const groups = inputGroupsOf(trained.spec, X);
  assert.equal(groups.length, 3);
  assert.deepEqual(groups[1], ["image_statistics"]);
  assert.deepEqual(groups[2], ["image_embedding"]);
  assert.ok(modelGroups(trained.spec, X).includes("categories"));
  const direct = await predictSplit(trained.model, trained.spec, prepared.fold, prepared.test);
  const viaMatrix = await modelPredictFn(trained.model, { inputGroups: groups })(X);
  direct.forEach((row, i) => row.forEach((p, c) => assert.ok(Math.abs(p - viaMatrix[i][c]) < 1e-5)));
  // Head on the raw embedding of a few test rows (given in a different order) → softmax = the model's probabilities.
  const picked = [5, 0, 9];
  const raw = data.embedding!;
  const e = tf.tensor2d(Float32Array.from(picked.flatMap((i) => Array.from(raw.data.subarray(prepared.test.indices[i] * 12, (prepared.test.indices[i] + 1) * 12)))), [3, 12]);
  const target = embeddingLogitHead(trained.model, trained.spec, prepared, prepared.test, picked);
  const probs = tf.tidy(() => tf.softmax(target.head(e, [0, 1, 2])).arraySync() as number[][]);
  target.dispose();
  e.dispose();
  picked.forEach((row, k) => probs[k].forEach((p, c) => assert.ok(Math.abs(p - direct[row][c]) < 1e-4, `row ${row} class ${c}: ${p} vs ${direct[row][c]}`)));
  assert.throws(() => embeddingLogitHead(trained.model, architectureFromName("MetaStatsMLP"), prepared, prepared.test), /no image-embedding input/);
  trained.model.dispose();
});
