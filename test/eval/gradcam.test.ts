import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/data/paths";
import { withSeed } from "../../lib/train";
import { createRng } from "../../lib/util/random";
import {
  defaultGradCamLayer,
  gradCam,
  gradCamExamples,
  gradCamGridItems,
  gradCamImages,
  gradCamParts,
  jetColor,
  overlayHeatmap,
  resizeHeatmap,
} from "../../lib/eval";

before(async () => {
  await tf.setBackend("cpu");
});

/** input 6×6×2 → conv1 (relu) → conv2 (tanh, the explained layer) → global pool → dense tanh → dense softmax. */
function tinyCnn(seed: number): tf.LayersModel {
  return withSeed(seed, () => {
    const input = tf.input({ shape: [6, 6, 2] });
    let h = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", activation: "relu", name: "conv1" }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "tanh", name: "conv2" }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({ name: "pool" }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 5, activation: "tanh", name: "hidden" }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: "softmax", name: "out" }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  });
}

function randomInput(seed: number, n: number): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Array.from({ length: n * 6 * 6 * 2 }, () => rng.normal()), [n, 6, 6, 2]);
}

/** The head after conv2 in float64 JavaScript, from the model's weights: logits from activations [4, 4, 4]. */
function headLogits(model: tf.LayersModel, activations: Float64Array): number[] {
  const [w1, b1] = model.getLayer("hidden").getWeights().map((t) => Array.from(t.dataSync()));
  const [w2, b2] = model.getLayer("out").getWeights().map((t) => Array.from(t.dataSync()));
  const pooled = [0, 0, 0, 0];
  for (let p = 0; p < 16; p++) for (let c = 0; c < 4; c++) pooled[c] += activations[p * 4 + c] / 16;
  const hidden = Array.from({ length: 5 }, (_, j) => Math.tanh(b1[j] + pooled.reduce((s, v, c) => s + v * w1[c * 5 + j], 0)));
  return Array.from({ length: 3 }, (_, k) => b2[k] + hidden.reduce((s, v, j) => s + v * w2[j * 3 + k], 0));
}

test("default layer is the last 4-D activation before global pooling", async () => {
  const model = tinyCnn(1);
  assert.equal(defaultGradCamLayer(model), "conv2");
  await assert.rejects(async () => gradCam(model, randomInput(1, 1), { layerName: "hidden" }), /not \[batch, h, w, channels\]/);
  await assert.rejects(async () => gradCam(model, randomInput(1, 1), { layerName: "nope" }), /no layer "nope"/);
});

test("replayed activations and logits match the model; the gradient matches finite differences", async () => {
  const model = tinyCnn(7);
  const x = randomInput(3, 2);
  const parts = await gradCamParts(model, x, { classIndex: [2, 0] });
  assert.deepEqual(parts.activations.shape, [2, 4, 4, 4]);
  const subModel = tf.model({ inputs: model.inputs, outputs: model.getLayer("conv2").output as tf.SymbolicTensor });
  const expected = (subModel.predict(x) as tf.Tensor).dataSync();
  const acts = parts.activations.dataSync();
  acts.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `activation ${i}: ${v} vs ${expected[i]}`));
  // Logit mode skipped the softmax: softmax(scores) is the model's output.
  const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  const scores = parts.scores.arraySync();
  scores.forEach((row, b) => {
    const e = row.map((v) => Math.exp(v - Math.max(...row)));
    const s = e.reduce((a, c) => a + c, 0);
    e.forEach((v, k) => assert.ok(Math.abs(v / s - probs[b][k]) < 1e-5));
  });
  const grads = parts.gradients.dataSync();
  for (let b = 0; b < 2; b++) {
    const c = parts.classIndices[b];
    const a = Float64Array.from(acts.subarray(b * 64, (b + 1) * 64));
    assert.ok(Math.abs(headLogits(model, a)[c] - scores[b][c]) < 1e-4);
    // Central differences in float64 on the independent JS head (eps 1e-2 as for float32 checks; the head is smooth).
    let maxRel = 0;
    for (let i = 0; i < 64; i++) {
      const eps = 1e-2;
      const plus = Float64Array.from(a);
      const minus = Float64Array.from(a);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (headLogits(model, plus)[c] - headLogits(model, minus)[c]) / (2 * eps);
      const analytic = grads[b * 64 + i];
      const rel = Math.abs(numeric - analytic) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic));
      maxRel = Math.max(maxRel, rel);
    }
    assert.ok(maxRel < 1e-2, `image ${b}: max relative error ${maxRel}`);
  }
  tf.dispose([parts.activations, parts.gradients, parts.scores, x]);
});

test("the gradient matches float32 finite differences through the model's own forward pass", async () => {
  const model = tinyCnn(11);
  const x = randomInput(5, 1);
  const parts = await gradCamParts(model, x, { classIndex: 1, score: "output" });
  // Score = the softmax output of class 1: perturb one activation, recompute through the layers after conv2.
  const after = (a: tf.Tensor) =>
    tf.tidy(() => {
      let h = model.getLayer("pool").apply(a) as tf.Tensor;
      h = model.getLayer("hidden").apply(h) as tf.Tensor;
      return (model.getLayer("out").apply(h) as tf.Tensor).dataSync()[1];
    });
  const acts = parts.activations.dataSync();
  const grads = parts.gradients.dataSync();
  const eps = 1e-2;
  let checked = 0;
  for (let i = 0; i < 64; i += 5) {
    const plus = Float32Array.from(acts);
    const minus = Float32Array.from(acts);
    plus[i] += eps;
    minus[i] -= eps;
    const numeric = (after(tf.tensor4d(plus, [1, 4, 4, 4])) - after(tf.tensor4d(minus, [1, 4, 4, 4]))) / (2 * eps);
    const rel = Math.abs(numeric - grads[i]) / Math.max(1e-4, Math.abs(numeric) + Math.abs(grads[i]));
    assert.ok(rel < 1e-2, `activation ${i}: numeric ${numeric} vs analytic ${grads[i]}`);
    checked++;
  }
  assert.ok(checked > 10);
  tf.dispose([parts.activations, parts.gradients, parts.scores, x]);
});

test("heat map weights are spatial means of the gradient and the map is ReLU(Σ w·A) scaled to [0, 1]", async () => {
  const model = tinyCnn(7);
  const x = randomInput(9, 1);
  const parts = await gradCamParts(model, x);
  const acts = parts.activations.dataSync();
  const grads = parts.gradients.dataSync();
  const [result] = await gradCam(model, x);
  assert.equal(result.classIndex, parts.classIndices[0]);
  const weights = [0, 1, 2, 3].map((c) => Array.from({ length: 16 }, (_, p) => grads[p * 4 + c]).reduce((a, b) => a + b, 0) / 16);
  weights.forEach((w, c) => assert.ok(Math.abs(w - result.channelWeights[c]) < 1e-6));
  const cam = Array.from({ length: 16 }, (_, p) => Math.max(0, weights.reduce((s, w, c) => s + w * acts[p * 4 + c], 0)));
  const max = Math.max(...cam);
  assert.ok(Math.abs(result.rawMax - max) < 1e-6);
  cam.forEach((v, p) => assert.ok(Math.abs(result.heatmap.data[p] - (max > 0 ? v / max : 0)) < 1e-5));
  assert.equal(result.heatmap.width, 4);
  tf.dispose([parts.activations, parts.gradients, parts.scores, x]);
});

test("the heat map points at the region that raises the class score (CNN trained from scratch shape)", async () => {
  // A 1×1 convolution copying a single-channel image: the class-0 logit is the image mean, so the map is the image.
  const input = tf.input({ shape: [8, 8, 1] });
  const conv = tf.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false, kernelInitializer: "ones", name: "copy" }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, kernelInitializer: "ones", biasInitializer: "zeros" }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.layers[model.layers.length - 1].setWeights([tf.tensor2d([[1, -1]]), tf.zeros([2])]);
  const pixels = new Float32Array(64);
  pixels[1 * 8 + 6] = 1; // row 1, column 6: top right
  const x = tf.tensor4d(pixels, [1, 8, 8, 1]);
  const [up] = await gradCam(model, x, { classIndex: 0 });
  assert.equal(up.heatmap.data[1 * 8 + 6], 1);
  assert.equal(up.heatmap.data.reduce((a, b) => a + b, 0), 1);
  // For class 1 the same pixel lowers the score: ReLU leaves nothing.
  const [down] = await gradCam(model, x, { classIndex: 1 });
  assert.equal(down.rawMax, 0);
  assert.ok(down.heatmap.data.every((v) => v === 0));
  x.dispose();
});

test("backbone + head: the score is head(backbone(image), metadata) and the gradient flows through the head", async () => {
  const backbone = withSeed(3, () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const h = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu", name: "bb_conv" }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({ name: "global_pool" }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: pooled });
  });
  const fusion = withSeed(4, () => {
    const embedding = tf.input({ shape: [4] });
    const meta = tf.input({ shape: [2] });
    const joined = tf.layers.concatenate().apply([embedding, meta]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, name: "fusion_out" }).apply(joined) as tf.SymbolicTensor;
    return tf.model({ inputs: [embedding, meta], outputs: out });
  });
  const metaRows = tf.tensor2d([[1, 0], [0, 1], [0.5, 0.5]]);
  const head = (e: tf.Tensor, indices: readonly number[]) => fusion.apply([e, tf.gather(metaRows, Array.from(indices))], { training: false }) as tf.Tensor;
  const x = randomInput(21, 3);
  const parts = await gradCamParts({ backbone, head }, x, { classIndex: 2 });
  assert.equal(parts.layerName, "bb_conv");
  const expectedScores = (fusion.predict([backbone.predict(x) as tf.Tensor, metaRows]) as tf.Tensor).arraySync() as number[][];
  parts.scores.arraySync().forEach((row, b) => row.forEach((v, k) => assert.ok(Math.abs(v - expectedScores[b][k]) < 1e-5)));
  // The head is linear in the pooled embedding (the ReLU is inside bb_conv, before the activations): ∂score/∂A[i,j,k] = W[k, 2] / 16.
  const w = (fusion.getLayer("fusion_out").getWeights()[0].arraySync() as number[][]).map((row) => row[2]);
  const grads = parts.gradients.dataSync();
  for (let i = 0; i < grads.length; i++) {
    const expected = w[i % 4] / 16;
    assert.ok(Math.abs(grads[i] - expected) < 1e-6, `gradient ${i}: ${grads[i]} vs ${expected}`);
  }
  tf.dispose([parts.activations, parts.gradients, parts.scores, x, metaRows]);
});

test("gradCamImages resizes photos, batches, passes photo indices to the head and overlays at the photo size", async () => {
  const model = withSeed(5, () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", name: "c" }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: "softmax" }).apply(pooled) as tf.SymbolicTensor });
  });
  const rng = createRng(2);
  const photos = [0, 1, 2].map(() => ({ width: 16, height: 12, data: Float32Array.from({ length: 16 * 12 * 3 }, () => rng.uniform(0, 255)) }));
  const results = await gradCamImages(model, photos, { batchSize: 2, preprocess: (p) => tf.div(p, 255) as tf.Tensor4D, classIndex: [0, 1, 2] });
  assert.equal(results.length, 3);
  assert.deepEqual(results.map((r) => r.classIndex), [0, 1, 2]);
  results.forEach((r) => {
    assert.equal(r.overlay.width, 16);
    assert.equal(r.overlay.height, 12);
    assert.ok(Math.abs(r.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });
  // Same images one at a time give the same maps (batching does not mix images).
  const single = (await gradCamImages(model, [photos[2]], { preprocess: (p) => tf.div(p, 255) as tf.Tensor4D, classIndex: 2 }))[0];
  single.heatmap.data.forEach((v, i) => assert.ok(Math.abs(v - results[2].heatmap.data[i]) < 1e-5));
  const items = gradCamGridItems(results, { classNames: ["low", "medium", "high"], trueClasses: [0, 0, 0] });
  assert.equal(items.length, 3);
  assert.match(items[0].caption ?? "", /^true low → pred /);
});

test("overlay, resize and colour map", () => {
  assert.deepEqual(jetColor(0), [0, 0, 127.5]);
  assert.deepEqual(jetColor(1), [127.5, 0, 0]);
  assert.deepEqual(jetColor(0.5), [127.5, 255, 127.5]);
  const map = { width: 2, height: 2, data: Float32Array.from([0, 1, 0, 0]) };
  const up = resizeHeatmap(map, 4, 4);
  assert.equal(up.data[0 * 4 + 3], 1); // top-right corner stays the hot one
  assert.equal(up.data[3 * 4 + 0], 0);
  const photo = { width: 4, height: 4, data: new Float32Array(48).fill(100) };
  const over = overlayHeatmap(photo, map, { alpha: 0.5 });
  assert.equal(over.data[3 * 3 + 0], 0.5 * 100 + 0.5 * 127.5); // red of jet(1) at the top-right pixel
  assert.equal(over.data[12 * 3 + 2], 0.5 * 100 + 0.5 * 127.5); // blue of jet(0) at the bottom-left pixel
});

test("gradCamExamples picks the most confident right and wrong predictions per class", () => {
  const proba = [
    [0.9, 0.1, 0],
    [0.6, 0.4, 0],
    [0.2, 0.8, 0],
    [0.1, 0.2, 0.7],
    [0.5, 0.4, 0.1],
  ];
  const examples = gradCamExamples([0, 0, 0, 1, 1], proba, { perClass: 1 });
  assert.deepEqual(examples.map((e) => [e.index, e.correct]), [
    [0, true],
    [2, false],
    [3, false],
  ]);
});

test("logit mode skips a final Softmax layer or softmax Activation layer; 1×1 maps are not the default layer", async () => {
  for (const kind of ["softmax-layer", "activation-layer"] as const) {
    const model = withSeed(8, () => {
      const input = tf.input({ shape: [6, 6, 2] });
      let h = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: "relu", name: "conv" }).apply(input) as tf.SymbolicTensor;
      h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
      h = tf.layers.reshape({ targetShape: [1, 1, 3] }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: "classifier_1x1" }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.flatten({}).apply(h) as tf.SymbolicTensor;
      const out = (kind === "softmax-layer" ? tf.layers.softmax() : tf.layers.activation({ activation: "softmax" })).apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    });
    assert.equal(defaultGradCamLayer(model), "conv", kind);
    const x = randomInput(4, 2);
    const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    const results = await gradCam(model, x);
    results.forEach((r, b) => r.probabilities.forEach((p, k) => assert.ok(Math.abs(p - probs[b][k]) < 1e-5, `${kind}: softmax(logits) = output`)));
    // The logits are not probabilities (they do not sum to 1) …
    const parts = await gradCamParts(model, x);
    assert.ok(Math.abs((parts.scores.sum(1).arraySync() as number[])[0] - 1) > 1e-3, kind);
    // … while "output" mode explains the softmax output itself.
    const outParts = await gradCamParts(model, x, { score: "output" });
    outParts.scores.arraySync().forEach((row, b) => row.forEach((v, k) => assert.ok(Math.abs(v - probs[b][k]) < 1e-6)));
    tf.dispose([parts.activations, parts.gradients, parts.scores, outParts.activations, outParts.gradients, outParts.scores, x]);
  }
});

test("Grad-CAM leaves no tensors behind", async () => {
  const model = tinyCnn(2);
  const x = randomInput(1, 3);
  await gradCam(model, x); // warm-up: layers build lazily
  const before = tf.memory().numTensors;
  await gradCam(model, x);
  await gradCamImages(model, [{ width: 6, height: 6, data: new Float32Array(6 * 6 * 3) }], {
    preprocess: (p) => tf.slice(p, [0, 0, 0, 0], [-1, -1, -1, 2]) as tf.Tensor4D,
  });
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

const MOBILENET_DIR = [process.env.POI_MODELS_DIR, path.join(PROJECT_ROOT, "models"), path.join(PROJECT_ROOT, "..", "shared", "models")]
  .filter((d): d is string => Boolean(d))
  .map((d) => path.join(d, "mobilenet_v2_1.0_224", "tfjs"))
  .find((d) => fs.existsSync(path.join(d, "model.json")));

/** Pure tfjs cannot read files in Node: load model.json + shards into memory. */
async function loadFromDisk(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const all = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

test("ImageNet MobileNetV2: default layer, logits behind its Softmax layer, gradient = classifier weights / 49", { skip: !MOBILENET_DIR }, async () => {
  const model = await loadFromDisk(MOBILENET_DIR as string);
  // The network ends conv_62 (7×7×1280, relu6) → global_pool → reshape → conv_64 (1×1 classifier) → reshape → softmax.
  assert.equal(defaultGradCamLayer(model), "conv_62");
  const rng = createRng(5);
  const x = tf.tensor4d(Float32Array.from({ length: 224 * 224 * 3 }, () => rng.uniform(-1, 1)), [1, 224, 224, 3]);
  const parts = await gradCamParts(model, x);
  const probs = (model.predict(x) as tf.Tensor).dataSync();
  const scores = parts.scores.dataSync();
  const max = Math.max(...scores);
  const exps = Array.from(scores, (v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  for (let k = 0; k < 1001; k += 50) assert.ok(Math.abs(exps[k] / total - probs[k]) < 1e-5);
  // The logit is linear in the pooled activations: ∂logit_c/∂A[i, j, k] = kernel[k, c] / 49.
  const c = parts.classIndices[0];
  const kernel = model.getLayer("conv_64").getWeights()[0].dataSync(); // [1, 1, 1280, 1001]
  const grads = parts.gradients.dataSync();
  for (let p = 0; p < 49; p += 7) {
    for (let k = 0; k < 1280; k += 97) {
      const expected = kernel[k * 1001 + c] / 49;
      assert.ok(Math.abs(grads[p * 1280 + k] - expected) < 1e-6, `position ${p} channel ${k}`);
    }
  }
  assert.deepEqual(parts.activations.shape, [1, 7, 7, 1280]);
  tf.dispose([parts.activations, parts.gradients, parts.scores, x]);
  model.dispose();
});

test("Sequential CNN trained from scratch: default layer and gradient match the functional equivalent", async () => {
  const model = withSeed(12, () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: "same", activation: "relu", name: "s_conv1" }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: "s_pool" }));
    m.add(tf.layers.conv2d({ filters: 4, kernelSize: 2, activation: "relu", name: "s_conv2" }));
    m.add(tf.layers.flatten({}));
    m.add(tf.layers.dense({ units: 3, activation: "softmax", name: "s_out" }));
    return m;
  });
  assert.equal(defaultGradCamLayer(model), "s_conv2");
  const x = randomInput(13, 2);
  const parts = await gradCamParts(model, x, { classIndex: [0, 2] });
  // Flatten + Dense: ∂logit_c/∂A[i, j, k] = kernel[(i·2 + j)·4 + k, c].
  const kernel = model.getLayer("s_out").getWeights()[0].arraySync() as number[][];
  const grads = parts.gradients.dataSync();
  [0, 2].forEach((c, b) => {
    for (let f = 0; f < 16; f++) assert.ok(Math.abs(grads[b * 16 + f] - kernel[f][c]) < 1e-6);
  });
  const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  (await gradCam(model, x)).forEach((r, b) => r.probabilities.forEach((p, k) => assert.ok(Math.abs(p - probs[b][k]) < 1e-5)));
  tf.dispose([parts.activations, parts.gradients, parts.scores, x]);
});

test("multi-input fusion LayersModel with the backbone nested as a layer equals the { backbone, head } form", async () => {
  const backbone = withSeed(14, () => {
    const input = tf.input({ shape: [6, 6, 2] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu", name: "n_conv1" }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ filters: 5, kernelSize: 2, activation: "tanh", name: "n_conv2" }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({ name: "n_pool" }).apply(h) as tf.SymbolicTensor, name: "nested_backbone" });
  });
  const fusion = withSeed(15, () => {
    const image = tf.input({ shape: [6, 6, 2], name: "image" });
    const meta = tf.input({ shape: [2], name: "meta" });
    const embedding = backbone.apply(image) as tf.SymbolicTensor;
    const joined = tf.layers.concatenate({ name: "join" }).apply([embedding, meta]) as tf.SymbolicTensor;
    const hidden = tf.layers.dense({ units: 4, activation: "relu", name: "f_hidden" }).apply(joined) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: "softmax", name: "f_out" }).apply(hidden) as tf.SymbolicTensor;
    return tf.model({ inputs: [image, meta], outputs: out });
  });
  assert.equal(defaultGradCamLayer(fusion), "n_conv2", "found inside the nested backbone");
  const x = randomInput(16, 3);
  const metaRows = tf.tensor2d([[1, 0], [0, 1], [2, -1]]);
  const nested = await gradCamParts(fusion, [x, metaRows]);
  // The same network written as backbone + head (logits by hand from the fusion layers' weights).
  const [k1, b1] = fusion.getLayer("f_hidden").getWeights();
  const [k2, b2] = fusion.getLayer("f_out").getWeights();
  const head = (e: tf.Tensor, idx: readonly number[]) => {
    const joined = tf.concat([e as tf.Tensor2D, tf.gather(metaRows, Array.from(idx))], 1);
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(joined, k1), b1)), k2), b2);
  };
  const split = await gradCamParts({ backbone, head }, x, { classIndex: nested.classIndices });
  const probs = (fusion.predict([x, metaRows]) as tf.Tensor).arraySync() as number[][];
  assert.deepEqual(nested.classIndices, probs.map((row) => row.indexOf(Math.max(...row))));
  const a = nested.gradients.dataSync();
  const b = split.gradients.dataSync();
  assert.equal(a.length, 3 * 3 * 3 * 5);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `gradient ${i}: ${v} vs ${b[i]}`));
  nested.scores.dataSync().forEach((v, i) => assert.ok(Math.abs(v - split.scores.dataSync()[i]) < 1e-5));
  // gradCamImages builds the metadata input per batch from the photo indices.
  const photos = [0, 1, 2].map((i) => ({ width: 6, height: 6, data: Float32Array.from({ length: 108 }, (_, j) => (j * (i + 3)) % 255) }));
  const seen: number[][] = [];
  const results = await gradCamImages(fusion, photos, {
    batchSize: 2,
    preprocess: (p) => tf.slice(tf.div(p, 255), [0, 0, 0, 0], [-1, -1, -1, 2]) as tf.Tensor4D,
    modelInputs: (images, idx) => {
      seen.push([...idx]);
      return [images, tf.gather(metaRows, Array.from(idx))];
    },
  });
  assert.deepEqual(seen, [[0, 1], [2]]);
  assert.equal(results.length, 3);
  await assert.rejects(async () => gradCamParts(fusion, x), /takes 2 inputs/);
  tf.dispose([nested.activations, nested.gradients, nested.scores, split.activations, split.gradients, split.scores, x, metaRows]);
});

test("a nested model used twice (shared weights) is refused with a hint", () => {
  const shared = withSeed(17, () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const h = tf.layers.conv2d({ filters: 2, kernelSize: 3, name: "shared_conv" }).apply(input) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor });
  });
  const a = tf.input({ shape: [6, 6, 2] });
  const b = tf.input({ shape: [6, 6, 2] });
  const joined = tf.layers.concatenate().apply([shared.apply(a) as tf.SymbolicTensor, shared.apply(b) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const siamese = tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 2 }).apply(joined) as tf.SymbolicTensor });
  assert.throws(() => defaultGradCamLayer(siamese), /used more than once/);
});
