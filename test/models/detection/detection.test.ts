import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { generateSyntheticDefects, instancesPath } from "../../../lib/data/coco";
import { hasPretrainedMobileNet, initEngine } from "../../../lib/engine";
import { buildTargets, decodeBox, decodeOutput, encodeBox, gaussianRadius, type Box } from "../../../lib/models/detection";
import { createRng } from "../../../lib/util";

before(async () => {
  await initEngine({ threads: 2 });
});

test("box encoding round-trips: encode → decode gives the box back", () => {
  const rng = createRng(3);
  for (let i = 0; i < 500; i++) {
    const w = rng.uniform(2, 150);
    const h = rng.uniform(2, 150);
    const box: Box = [rng.uniform(0, 224 - w), rng.uniform(0, 224 - h), w, h];
    const encoded = encodeBox(box, 8, 28);
    assert.ok(encoded.offsetX >= 0 && encoded.offsetX < 1 && encoded.offsetY >= 0 && encoded.offsetY < 1);
    const back = decodeBox(encoded, 8);
    back.forEach((v, j) => assert.ok(Math.abs(v - box[j]) < 1e-9, `box ${i} coordinate ${j}: ${v} vs ${box[j]}`));
  }
  assert.equal(gaussianRadius(0, 0), 0);
  assert.ok(gaussianRadius(10, 10) > gaussianRadius(2, 2));
});

test("targets put a 1 at each centre with its box numbers, and decoding the targets as logits gives the boxes", () => {
  const G = 16;
  const K = 3;
  const objects = [
    { box: [10, 20, 30, 18] as Box, classIndex: 0 },
    { box: [70, 64, 40, 50] as Box, classIndex: 2 },
  ];
  const t = buildTargets(objects, G, K);
  assert.equal(t.mask.reduce((a, b) => a + b, 0), 2);
  assert.equal(t.heatmap.filter((v) => v === 1).length, 2);
  // Perfect predictions: logits ±10 from the target heatmap's centres, box numbers from the regression target.
  const output = new Float32Array(G * G * (K + 4));
  for (let cell = 0; cell < G * G; cell++) {
    for (let k = 0; k < K; k++) output[cell * (K + 4) + k] = t.heatmap[cell * K + k] === 1 ? 10 : -10;
    for (let j = 0; j < 4; j++) output[cell * (K + 4) + K + j] = t.regression[cell * 4 + j];
  }
  const tensor = tf.tensor3d(output, [G, G, K + 4]);
  const decoded = decodeOutput(tensor, K);
  tensor.dispose();
  assert.equal(decoded.length, 2);
  for (const object of objects) {
    const match = decoded.find((d) => d.classIndex === object.classIndex)!;
    match.box.forEach((v, j) => assert.ok(Math.abs(v - object.box[j]) < 1e-4, `${v} vs ${object.box[j]}`));
  }
});

test("the detector overfits a handful of images (AP50 ≥ 0.9 on the images it trained on)", { skip: !hasPretrainedMobileNet() && "MobileNetV2 weights not found" }, async () => {
  const { loadDetectionData, trainDetector, disposeDetectionData } = await import("../../../lib/experiments/detection");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "overfit-"));
  await generateSyntheticDefects({ out: dir, seed: 11, images: 10, size: 128, normalShare: 0 });
  // Validate on the training images themselves: this test is about capacity, not generalisation.
  fs.copyFileSync(instancesPath(dir, "train"), instancesPath(dir, "val"));
  fs.rmSync(path.join(dir, "val"), { recursive: true });
  fs.cpSync(path.join(dir, "train"), path.join(dir, "val"), { recursive: true });
  const data = await loadDetectionData({ data: dir, size: 128, splits: ["train", "val"] });
  const trained = await trainDetector(data, { epochs: 60, batchSize: 7, lr: 1e-2, seed: 0, augment: false, track: false, checkpointDir: path.join(dir, "ckpt") });
  disposeDetectionData(data);
  assert.ok(trained.history[0].loss > trained.history[trained.history.length - 1].loss * 3, "the loss falls");
  assert.ok(trained.bestValAp50 >= 0.9, `AP50 on the training images ${trained.bestValAp50}`);
  assert.ok(fs.existsSync(path.join(trained.checkpoints.best, "detector.json")));
});
