import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  convertMobileNetV2,
  dequantize,
  downloadMobileNetV2,
  initEngine,
  loadLayersModelFrom,
  loadMobileNetV2,
  MOBILENET_V2_SOURCE,
  MOBILENET_V2_TFJS_WEIGHTS_SHA256,
  readTflite,
  resolveModelsDir,
  tfliteToLayersModel,
  type Fetch,
  type TfliteModel,
  type TfliteTensor,
} from "../../lib/engine";
import { decodeImage, PROJECT_ROOT } from "../../lib/data";
import { hasDataset, imagePath, loadPoiDataset } from "../../lib/poi";

// A copy of the public files: downloaded into models/ (npm run weights:download), or the course's in ../shared/models.
const SHARED = path.join(PROJECT_ROOT, "..", "shared", "models", "mobilenet_v2_1.0_224");
const SOURCE = [path.join(PROJECT_ROOT, "models", "mobilenet_v2_1.0_224"), SHARED].find((dir) =>
  MOBILENET_V2_SOURCE.files.every((f) => fs.existsSync(path.join(dir, f.name))),
);
const TFLITE = path.join(SOURCE ?? SHARED, "mobilenet_v2_1.0_224_quant.tflite");
const noTflite = !SOURCE && "mobilenet_v2_1.0_224_quant.tflite not found (npm run weights:download)";
// The course's float conversion: the reference this converter must reproduce.
const REFERENCE = path.join(SHARED, "tfjs");
const noReference = noTflite || (!fs.existsSync(path.join(REFERENCE, "model.json")) && "../shared/models/mobilenet_v2_1.0_224/tfjs not found");

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A converted copy shared by the tests below (the conversion takes about a second). */
let converted: Promise<string> | undefined;
function convertedDir(): Promise<string> {
  converted ??= (async () => {
    const dir = tempDir("tflite-convert-");
    await convertMobileNetV2({ tflite: TFLITE, modelsDir: dir });
    return path.join(dir, "mobilenet_v2_1.0_224", "tfjs");
  })();
  return converted;
}

function tensor(partial: Partial<TfliteTensor> & Pick<TfliteTensor, "shape" | "type" | "data">): TfliteTensor {
  return { index: 0, name: "t", ...partial };
}

test("dequantize: scale · (q − zero_point), per tensor and per channel, int32 biases", () => {
  const perTensor = dequantize(tensor({ shape: [4], type: "uint8", data: Uint8Array.from([0, 128, 130, 255]), quantization: { scale: [0.5], zeroPoint: [128], quantizedDimension: 0, min: [], max: [] } }));
  assert.deepEqual(Array.from(perTensor), [-64, 0, 1, 63.5]);
  // Per channel along dimension 0 of [2, 3]: row 0 uses scale 1 / zero 0, row 1 scale 0.25 / zero 10.
  const perChannel = dequantize(
    tensor({ shape: [2, 3], type: "int8", data: new Uint8Array(Int8Array.from([1, -2, 3, 10, 14, -6]).buffer), quantization: { scale: [1, 0.25], zeroPoint: [0, 10], quantizedDimension: 0, min: [], max: [] } }),
  );
  assert.deepEqual(Array.from(perChannel), [1, -2, 3, 0, 1, -4]);
  // Per channel along the last dimension (a TFLite depthwise kernel's layout).
  const lastAxis = dequantize(
    tensor({ shape: [2, 2], type: "uint8", data: Uint8Array.from([1, 2, 3, 4]), quantization: { scale: [1, 2], zeroPoint: [0, 1], quantizedDimension: 1, min: [], max: [] } }),
  );
  assert.deepEqual(Array.from(lastAxis), [1, 2, 3, 6]);
  const bias = dequantize(tensor({ shape: [2], type: "int32", data: new Uint8Array(Int32Array.from([-1000, 4]).buffer), quantization: { scale: [0.001], zeroPoint: [0], quantizedDimension: 0, min: [], max: [] } }));
  assert.deepEqual(Array.from(bias), [Math.fround(-1), Math.fround(0.004)]);
  assert.throws(() => dequantize(tensor({ shape: [3], type: "uint8", data: Uint8Array.from([1, 2]) })), /2 bytes for shape \[3\]/);
});

test("readTflite refuses a file that is not a TFLite model, naming what it found", () => {
  assert.throws(() => readTflite(new Uint8Array(16)), /file identifier is .*expected "TFL3"/);
  assert.throws(() => readTflite(new Uint8Array(4)), /too short/);
});

test("the converter refuses operators it does not know, naming them", () => {
  const model: TfliteModel = {
    version: 3,
    subgraphCount: 1,
    inputs: [0],
    outputs: [1],
    tensors: [tensor({ index: 0, shape: [1, 8, 8, 3], type: "float32", data: undefined }), tensor({ index: 1, shape: [1, 4, 4, 3], type: "float32", data: undefined })],
    operators: [{ index: 0, op: "MAX_POOL_2D", inputs: [0], outputs: [1] }],
  };
  assert.throws(() => tfliteToLayersModel(model, "m"), /unsupported operator\(s\) MAX_POOL_2D \(first: operator 0\); supported: CONV_2D/);
});

test("readTflite: the public MobileNetV2 file's graph, quantization and options", { skip: noTflite }, () => {
  const model = readTflite(fs.readFileSync(TFLITE));
  assert.equal(model.version, 3);
  assert.equal(model.tensors.length, 174);
  const counts: Record<string, number> = {};
  for (const op of model.operators) counts[op.op] = (counts[op.op] ?? 0) + 1;
  assert.deepEqual(counts, { CONV_2D: 36, DEPTHWISE_CONV_2D: 17, ADD: 10, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 });
  const input = model.tensors[model.inputs[0]];
  assert.deepEqual(input.shape, [1, 224, 224, 3]);
  assert.equal(input.type, "uint8");
  // The input encoding is exactly the engine's preprocessing: (pixel − 128) / 128.
  assert.deepEqual([input.quantization?.scale[0], input.quantization?.zeroPoint[0]], [1 / 128, 128]);
  const first = model.operators[0];
  assert.deepEqual(first.options, { kind: "conv2d", padding: "same", strides: [2, 2], activation: "relu6", dilation: [1, 1] });
  const kernel = model.tensors[first.inputs[1]];
  assert.deepEqual([kernel.shape, kernel.type, kernel.data?.byteLength], [[32, 3, 3, 3], "uint8", 864]);
  assert.deepEqual(model.operators[62].options, { kind: "pool2d", padding: "valid", strides: [1, 1], filter: [7, 7], activation: "none" });
  assert.equal(model.tensors[model.outputs[0]].shape.join(), "1,1001");
});

test("convert: the weight bytes have the pinned checksum; the layers the engine and Grad-CAM use are there", { skip: noTflite }, async () => {
  await initEngine({ log: false });
  const dir = await convertedDir();
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const hash = createHash("sha256");
  for (const shard of json.weightsManifest[0].paths as string[]) hash.update(fs.readFileSync(path.join(dir, shard)));
  assert.equal(hash.digest("hex"), MOBILENET_V2_TFJS_WEIGHTS_SHA256);
  const { model } = await loadLayersModelFrom(dir);
  assert.equal(model.layers.length, 68);
  assert.equal(model.countParams(), 3_489_097);
  assert.deepEqual(model.getLayer("global_pool").outputShape, [null, 1280]);
  assert.deepEqual(model.getLayer("conv_62").outputShape, [null, 7, 7, 1280]);
  assert.deepEqual(model.getLayer("predictions").outputShape, [null, 1001]);
  assert.equal(model.layers.filter((l) => l.getClassName() === "Add").length, 10);
  model.dispose();
});

test("convert: topology and weights identical to ../shared/models' tfjs model (bit for bit)", { skip: noReference }, async () => {
  await initEngine({ log: false });
  const dir = await convertedDir();
  const ours = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const reference = JSON.parse(fs.readFileSync(path.join(REFERENCE, "model.json"), "utf8"));
  assert.deepEqual(ours.modelTopology, reference.modelTopology, "same layers, names, configs and connections");
  assert.deepEqual(ours.weightsManifest, reference.weightsManifest, "same weight names, shapes and shards");
  for (const shard of reference.weightsManifest[0].paths as string[]) {
    assert.ok(fs.readFileSync(path.join(dir, shard)).equals(fs.readFileSync(path.join(REFERENCE, shard))), `${shard} differs`);
  }
  const hash = createHash("sha256");
  for (const shard of reference.weightsManifest[0].paths as string[]) hash.update(fs.readFileSync(path.join(REFERENCE, shard)));
  assert.equal(hash.digest("hex"), MOBILENET_V2_TFJS_WEIGHTS_SHA256, "the pinned checksum is the reference's");
});

test("convert: same embeddings and predictions as the shared model on real POI photos", { skip: noReference || (!hasDataset() && "real dataset not found") }, async () => {
  await initEngine({ log: false });
  const dir = await convertedDir();
  const { dataDir, records } = loadPoiDataset({ checkImages: false });
  const sample = records.filter((_, i) => i % 200 === 0); // 8 photos spread over the table
  const pixels = new Float32Array(sample.length * 224 * 224 * 3);
  for (let i = 0; i < sample.length; i++) pixels.set((await decodeImage(imagePath(dataDir, sample[i]), { size: 224 })).data, i * 224 * 224 * 3);
  const batch = tf.tensor4d(pixels, [sample.length, 224, 224, 3]);
  const [oursEmbedding, referenceEmbedding] = [await loadMobileNetV2(dir), await loadMobileNetV2(REFERENCE)];
  const [oursFull, referenceFull] = [(await loadLayersModelFrom(dir)).model, (await loadLayersModelFrom(REFERENCE)).model];
  const a = oursEmbedding.embed(batch);
  const b = referenceEmbedding.embed(batch);
  const scaled = oursEmbedding.preprocess(batch);
  const p = oursFull.predict(scaled) as tf.Tensor2D;
  const q = referenceFull.predict(scaled) as tf.Tensor2D;
  const maxDiff = (x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]);
  // Identical weights and topology: the only tolerance needed is none; 1e-6 allows a backend that reorders sums.
  assert.ok(maxDiff(a, b) <= 1e-6, `embeddings differ by ${maxDiff(a, b)}`);
  assert.ok(maxDiff(p, q) <= 1e-6, `probabilities differ by ${maxDiff(p, q)}`);
  assert.deepEqual(Array.from(tf.argMax(p, 1).dataSync()), Array.from(tf.argMax(q, 1).dataSync()));
  tf.dispose([batch, a, b, scaled, p, q]);
  for (const m of [oursEmbedding.model, referenceEmbedding.model, oursFull, referenceFull]) m.dispose();
});

test("download: verified files are written; a wrong checksum or an HTTP error is refused and leaves nothing", { skip: noTflite }, async () => {
  const served = new Map(MOBILENET_V2_SOURCE.files.map((f) => [f.name, fs.readFileSync(path.join(SOURCE!, f.name))]));
  const urls: string[] = [];
  const fakeFetch =
    (tamper?: string): Fetch =>
    async (url) => {
      urls.push(url);
      const name = url.split("/").pop()!;
      const bytes = Buffer.from(served.get(name) ?? Buffer.alloc(0));
      if (name === tamper) bytes[100] ^= 1;
      return { ok: served.has(name), status: served.has(name) ? 200 : 404, statusText: "", arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
    };
  const dir = tempDir("weights-download-");
  const files = await downloadMobileNetV2({ modelsDir: dir, fetch: fakeFetch() });
  assert.deepEqual(files.map((f) => path.relative(dir, f)), ["mobilenet_v2_1.0_224/mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2_1.0_224/LICENSE", "mobilenet_v2_1.0_224/imagenet_labels.txt"]);
  assert.equal(urls[0], "https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/mobilenet_v2_1.0_224_quant.tflite");
  // A second run finds the verified files and downloads nothing.
  urls.length = 0;
  await downloadMobileNetV2({ modelsDir: dir, fetch: fakeFetch() });
  assert.equal(urls.length, 0);

  const bad = tempDir("weights-download-bad-");
  await assert.rejects(downloadMobileNetV2({ modelsDir: bad, fetch: fakeFetch("mobilenet_v2_1.0_224_quant.tflite") }), /sha256 [0-9a-f]{64} does not match the pinned 7aad0c74.*refusing/);
  assert.deepEqual(fs.readdirSync(path.join(bad, "mobilenet_v2_1.0_224")), [], "nothing written");
  const notFound: Fetch = async () => ({ ok: false, status: 404, statusText: "Not Found", arrayBuffer: async () => new ArrayBuffer(0) });
  await assert.rejects(downloadMobileNetV2({ modelsDir: bad, fetch: notFound }), /cannot download https:\/\/raw\.githubusercontent\.com\/.*HTTP 404 Not Found/);
  const offline: Fetch = async () => {
    throw new Error("fetch failed");
  };
  await assert.rejects(downloadMobileNetV2({ modelsDir: bad, fetch: offline }), /fetch failed \(no network\?/);

  // The downloaded file then converts into a model the engine finds through POI_MODELS_DIR.
  const report = await convertMobileNetV2({ modelsDir: dir });
  assert.equal(report.matchesReference, true);
  assert.equal(report.parameters, 3_489_097);
  assert.equal(resolveModelsDir({ POI_MODELS_DIR: dir }), dir);
});

test("convert refuses a .tflite that is not the pinned file", async () => {
  const dir = tempDir("weights-convert-bad-");
  const file = path.join(dir, "other.tflite");
  fs.writeFileSync(file, Buffer.alloc(64));
  await assert.rejects(convertMobileNetV2({ tflite: file, modelsDir: dir }), /other\.tflite: 64 bytes, expected 3610798; refusing/);
  await assert.rejects(convertMobileNetV2({ modelsDir: dir }), /does not exist: run `npm run weights:download` first/);
});

test("models are searched in POI_MODELS_DIR, else models/, else ../shared/models; the error names the commands", () => {
  const root = tempDir("models-search-");
  const project = path.join(root, "project");
  const place = (dir: string) => {
    fs.mkdirSync(path.join(dir, "mobilenet_v2_1.0_224", "tfjs"), { recursive: true });
    fs.writeFileSync(path.join(dir, "mobilenet_v2_1.0_224", "tfjs", "model.json"), "{}");
  };
  assert.throws(
    () => resolveModelsDir({}, project),
    (err: Error) =>
      err.message.includes(`no mobilenet_v2_1.0_224/tfjs/model.json in ${path.join(project, "models")} or ${path.join(root, "shared", "models")}`) &&
      err.message.includes("`npm run weights:download && npm run weights:convert`") &&
      err.message.includes("POI_MODELS_DIR"),
  );
  place(path.join(root, "shared", "models"));
  assert.equal(resolveModelsDir({}, project), path.join(root, "shared", "models"));
  place(path.join(project, "models"));
  assert.equal(resolveModelsDir({}, project), path.join(project, "models"));
  const own = path.join(root, "mine");
  assert.throws(() => resolveModelsDir({ POI_MODELS_DIR: own }, project), /POI_MODELS_DIR=.*mine has no mobilenet_v2_1\.0_224\/tfjs\/model\.json/);
  place(own);
  assert.equal(resolveModelsDir({ POI_MODELS_DIR: own }, project), own);
});
