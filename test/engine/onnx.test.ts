import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as tf from "@tensorflow/tfjs";
import { chooseInference, createBackbone, exportLayersModel, frozenForward, hasPretrainedMobileNet, initEngine, loadMobileNetV2, OnnxExportUnsupported, parseInferenceSetting } from "../../lib/engine";
import { onnxRuntime, OnnxSession } from "../../lib/engine/onnx/runtime";
import { decodeImage } from "../../lib/data";
import { imagePath, loadPoiDataset } from "../../lib/poi";
import { createRng } from "../../lib/util";

/**
 * The ONNX path against the tfjs model it was exported from. Tolerance: ONNX Runtime and tfjs sum in different orders
 * (and ORT fuses and re-blocks convolutions), so values agree to float32 rounding accumulated over the network:
 * |onnx − tfjs| ≤ 1e-4 · max(1, max |tfjs|) for every value of an output (measured: MobileNetV2 on real photos
 * ≈ 2e-5 at values up to ≈ 6; random-weight backbones 1e-7 to 2.3e-5 of their output scale).
 */
const TOLERANCE = 1e-4;

function assertClose(actual: Float32Array, expected: Float32Array, what: string): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / scale;
    if (!(err <= TOLERANCE)) assert.fail(`${what}: value ${i} is ${actual[i]}, tfjs ${expected[i]}`);
    worst = Math.max(worst, err);
  }
  return worst;
}

function randomPixels(count: number, size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count * size * size * 3 }, () => rng.uniform(0, 255));
}

/**
 * Random BatchNorm statistics and biases (a dropped or misplaced BatchNorm would show; tfjs initialises them to
 * identity), random kernels where `kernels` is true (else the backbones' seeded He-normal ones, which keep deep
 * networks' activations of order 1).
 */
function randomizeWeights(model: tf.LayersModel, seed: number, kernels = false): void {
  const rng = createRng(seed);
  model.setWeights(
    model.weights.map((w) => {
      const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const value = w.read();
      if (/kernel/.test(w.originalName) && !kernels) return value.clone();
      const positive = /moving_variance|gamma/.test(w.originalName);
      return tf.tensor(Float32Array.from({ length: n }, () => (positive ? rng.uniform(0.5, 1.5) : rng.normal() * 0.3)), w.shape as number[]);
    }),
  );
}

async function ortRun(model: tf.LayersModel, pixels: Float32Array, shape: number[]): Promise<Float32Array> {
  const runtime = await onnxRuntime();
  if (typeof runtime === "string") assert.fail(runtime);
  const exported = exportLayersModel(model);
  const session = await OnnxSession.create(runtime, exported.bytes, exported.inputName, exported.outputName, 2);
  try {
    return await session.run(pixels, shape);
  } finally {
    await session.release();
  }
}

test("onnxruntime-node loads from the npm package and runs a graph written by our protobuf writer", async () => {
  const runtime = await onnxRuntime();
  assert.notEqual(typeof runtime, "string", String(runtime));
});

test("ONNX export: every backbone architecture (random weights) gives the tfjs model's outputs", async () => {
  await initEngine({ log: false });
  for (const name of ["small-cnn", "resnet18", "efficientnet-b0", "mobilenet-v2"] as const) {
    const backbone = createBackbone(name, { inputSize: 32, seed: 1 });
    randomizeWeights(backbone.model, 7);
    const pixels = randomPixels(3, 32, 2);
    const input = tf.tensor4d(pixels, [3, 32, 32, 3]);
    const expected = tf.tidy(() => (backbone.model.predict(input) as tf.Tensor).dataSync() as Float32Array);
    input.dispose();
    assertClose(await ortRun(backbone.model, pixels, [3, 32, 32, 3]), expected, name);
  }
});

test("ONNX export: dense heads, flatten, reshape, pooling and activations keep tfjs' element order", async () => {
  await initEngine({ log: false });
  const input = tf.input({ shape: [9, 9, 4] });
  let h = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: "same", activation: "elu" }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2, padding: "same" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: "valid" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [2, 2, 6] }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2, padding: "same", activation: "tanh" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 5, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: h });
  randomizeWeights(model, 3, true);
  const data = Float32Array.from({ length: 2 * 9 * 9 * 4 }, (_, i) => Math.sin(i));
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(data, [2, 9, 9, 4])) as tf.Tensor).dataSync() as Float32Array);
  assertClose(await ortRun(model, data, [2, 9, 9, 4]), expected, "mixed layers");
});

test("a handed-over input buffer comes back from the worker, unchanged, before the result", async () => {
  const runtime = await onnxRuntime();
  if (typeof runtime === "string") assert.fail(runtime);
  const model = createBackbone("small-cnn", { inputSize: 8, seed: 1 }).model;
  const exported = exportLayersModel(model);
  const session = await OnnxSession.create(runtime, exported.bytes, exported.inputName, exported.outputName, 1);
  try {
    const pixels = randomPixels(2, 8, 3);
    const original = pixels.slice();
    let returned: Float32Array | null = null;
    const values = await session.run(pixels, [2, 8, 8, 3], { handOver: true, giveBack: (buffer) => (returned = buffer) });
    assert.equal(pixels.length, 0, "moved to the worker (detached here)");
    assert.ok(returned, "given back before the result resolved");
    assert.deepEqual(returned, original);
    assert.deepEqual(values, await session.run(original, [2, 8, 8, 3]), "the same result as from a copy");
  } finally {
    await session.release();
  }
});

test("ONNX export names what it does not handle", () => {
  const input = tf.input({ shape: [4, 4, 3] });
  const output = tf.layers.upSampling2d({ size: [2, 2] }).apply(input) as tf.SymbolicTensor;
  assert.throws(() => exportLayersModel(tf.model({ inputs: input, outputs: output })), (err: Error) => err instanceof OnnxExportUnsupported && /UpSampling2D/.test(err.message));
});

test("MobileNetV2 on ONNX Runtime matches the tfjs network on real photos (preprocessing folded into the graph)", { skip: !hasPretrainedMobileNet() && "pretrained MobileNetV2 not found" }, async () => {
  await initEngine({ log: false });
  assert.equal((await chooseInference()).runtime, "onnxruntime");
  const backbone = await loadMobileNetV2();
  const dataset = loadPoiDataset();
  const files = dataset.records.slice(0, 6).map((r) => imagePath(dataset.dataDir, r));
  const images = await Promise.all(files.map((f) => decodeImage(f, { size: 224 })));
  const pixels = new Float32Array(images.length * 224 * 224 * 3);
  images.forEach((im, i) => pixels.set(im.data, i * im.data.length));
  const forward = await frozenForward(backbone, 224);
  assert.equal(forward.runtime, "onnxruntime");
  const ours = await forward.run(pixels, images.length);
  const expected = tf.tidy(() => {
    const x = backbone.preprocess(tf.tensor4d(pixels, [images.length, 224, 224, 3]));
    return (backbone.model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
  assertClose(ours, expected, "MobileNetV2 embedding");
});

test("trainable backbones stay on tfjs (their weights change while training)", async () => {
  await initEngine({ log: false });
  const forward = await frozenForward(createBackbone("small-cnn", { inputSize: 16, seed: 0 }), 16);
  assert.equal(forward.runtime, "tfjs");
});

test("INFERENCE_RUNTIME: auto, onnxruntime (aliases onnx, ort) or tfjs; anything else names the setting", () => {
  assert.equal(parseInferenceSetting(undefined), undefined);
  assert.equal(parseInferenceSetting("auto"), undefined);
  assert.equal(parseInferenceSetting("ORT"), "onnxruntime");
  assert.equal(parseInferenceSetting("tfjs"), "tfjs");
  assert.throws(() => parseInferenceSetting("tensorrt"), /INFERENCE_RUNTIME=tensorrt: unknown runtime/);
});

test("embedImages runs a frozen backbone on ONNX Runtime (in a worker) with the tfjs rows, and the process still exits by itself", async () => {
  const engine = require.resolve("../../lib/engine");
  const code = `
    const tf = require("@tensorflow/tfjs");
    const fs = require("fs"), os = require("os"), path = require("path");
    const sharp = require("sharp");
    const { initEngine, createBackbone, embedImages, frozenForward } = require(${JSON.stringify(engine)});
    (async () => {
      await initEngine({ log: false });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onnx-embed-"));
      const files = [];
      for (let i = 0; i < 5; i++) {
        const raw = Buffer.alloc(20 * 20 * 3).map((_, p) => (p * (i + 3) * 37) % 256);
        files.push(path.join(dir, i + ".png"));
        await sharp(raw, { raw: { width: 20, height: 20, channels: 3 } }).png().toFile(files[i]);
      }
      const backbone = createBackbone("efficientnet-b0", { inputSize: 32, seed: 2 });
      backbone.model.trainable = false;
      const result = await embedImages({ backbone, files, size: 32, batchSize: 2, cacheDir: null, log: false });
      const images = await Promise.all(files.map((f) => require(${JSON.stringify(require.resolve("../../lib/data"))}).decodeImage(f, { size: 32 })));
      const x = tf.tensor4d(Float32Array.from(images.flatMap((im) => Array.from(im.data))), [5, 32, 32, 3]);
      const expected = backbone.embed(x).dataSync();
      let scale = 1, worst = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      expected.forEach((v, i) => { worst = Math.max(worst, Math.abs(result.embeddings.data[i] - v) / scale); });
      fs.rmSync(dir, { recursive: true, force: true });
      console.log(JSON.stringify({ worst, rows: result.embeddings.rows, runtime: (await frozenForward(backbone, 32)).runtime }));
    })();`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { encoding: "utf8", timeout: 120_000, env: { ...process.env, INFERENCE_RUNTIME: "onnxruntime" } });
  assert.equal(child.status, 0, `exit ${child.status} (a timeout means the worker kept the process alive)\n${child.stderr}`);
  const { worst, rows, runtime } = JSON.parse(child.stdout.trim().split("\n").pop()!);
  assert.equal(runtime, "onnxruntime");
  assert.equal(rows, 5);
  assert.ok(worst <= TOLERANCE, `worst relative difference ${worst}`);
});
