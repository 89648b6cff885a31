import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  BACKBONE_NAMES,
  compileFrozenForward,
  createBackbone,
  hasPretrainedMobileNet,
  initEngine,
  loadBackbone,
  loadLayersModelFrom,
  loadMobileNetV2,
  resolveModelsDir,
} from "../../lib/engine";
import * as path from "path";

const noModels = !hasPretrainedMobileNet();

test("MobileNetV2 loads from disk: 224 input, 1280-d non-negative embedding, fused forward = layers forward", { skip: noModels }, async () => {
  await initEngine({ log: false });
  const backbone = await loadMobileNetV2();
  assert.equal(backbone.inputSize, 224);
  assert.equal(backbone.embeddingSize, 1280);
  assert.equal(backbone.pretrained, true);
  assert.match(backbone.weightsHash, /^[0-9a-f]{64}$/);
  const before = tf.memory().numTensors;
  const pixels = tf.randomUniform([2, 224, 224, 3], 0, 255, "float32", 5) as tf.Tensor4D;
  const fused = backbone.embed(pixels);
  const reference = tf.tidy(() => backbone.model.predict(backbone.preprocess(pixels)) as tf.Tensor);
  assert.deepEqual(fused.shape, [2, 1280]);
  const a = fused.dataSync();
  const b = reference.dataSync();
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(a[i] >= 0, "global_pool follows relu6, so values are ≥ 0");
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(worst / scale < 1e-4, `fused vs layers: ${worst} / ${scale}`);
  tf.dispose([pixels, fused, reference]);
  assert.equal(tf.memory().numTensors, before);
  backbone.model.dispose();
});

test("the full MobileNetV2 classifier loads from a model.json path and outputs 1001 probabilities summing to 1", { skip: noModels }, async () => {
  await initEngine({ log: false });
  const { model } = await loadLayersModelFrom(path.join(resolveModelsDir(), "mobilenet_v2_1.0_224", "tfjs", "model.json"));
  const output = model.predict(tf.zeros([1, 224, 224, 3])) as tf.Tensor;
  const probs = Array.from(output.dataSync() as Float32Array);
  output.dispose();
  assert.equal(probs.length, 1001);
  const sum = probs.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - 1) < 1e-3, `sum ${sum}`);
  model.dispose();
});

for (const name of BACKBONE_NAMES) {
  test(`createBackbone("${name}"): builds at a small size, seeded weights, fused forward = layers forward`, async () => {
    await initEngine({ log: false });
    const a = createBackbone(name, { inputSize: 32, seed: 1 });
    const b = createBackbone(name, { inputSize: 32, seed: 1 });
    // A second seed is checked on the small net only (building the big ones a third time is slow).
    const c = name === "small-cnn" ? createBackbone(name, { inputSize: 32, seed: 2 }) : null;
    assert.equal(a.pretrained, false);
    assert.equal(a.weightsHash, b.weightsHash);
    const wa = a.model.getWeights()[0].dataSync();
    assert.deepEqual(Array.from(wa), Array.from(b.model.getWeights()[0].dataSync()));
    if (c) {
      assert.notEqual(a.weightsHash, c.weightsHash);
      assert.notDeepEqual(Array.from(wa), Array.from(c.model.getWeights()[0].dataSync()));
    }
    assert.ok(compileFrozenForward(a.model), "every layer has a fused forward");
    const pixels = tf.randomUniform([2, 32, 32, 3], 0, 255, "float32", 1) as tf.Tensor4D;
    const fused = a.embed(pixels);
    const reference = tf.tidy(() => a.model.predict(a.preprocess(pixels)) as tf.Tensor);
    assert.deepEqual(fused.shape, [2, a.embeddingSize]);
    const x = fused.dataSync();
    const y = reference.dataSync();
    const scale = Math.max(1e-12, ...Array.from(y).map(Math.abs));
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-4 * scale, `value ${i}: ${x[i]} vs ${y[i]}`);
    tf.dispose([pixels, fused, reference]);
    for (const m of [a, b, c]) m?.model.dispose();
  });
}

test("createBackbone rejects an unknown name, listing the known ones", () => {
  assert.throws(() => createBackbone("vgg16" as never), /unknown backbone "vgg16".*resnet18/);
});

test("loadBackbone accepts a folder of published tfjs weights (the offline MobileNetV2 stands in for a download)", { skip: noModels }, async () => {
  await initEngine({ log: false });
  const dir = path.join(resolveModelsDir(), "mobilenet_v2_1.0_224", "tfjs");
  const viaFolder = await loadBackbone("mobilenet-v2", dir);
  const viaLayer = await loadBackbone("resnet50", dir, { embeddingLayer: "global_pool" });
  assert.equal(viaFolder.embeddingSize, 1280);
  assert.equal(viaLayer.embeddingSize, 1280);
  assert.equal(viaLayer.weightsHash, viaFolder.weightsHash, "same files, same hash");
  await assert.rejects(loadBackbone("resnet18", path.join(dir, "missing")), /does not exist/);
  viaFolder.model.dispose();
  viaLayer.model.dispose();
});
