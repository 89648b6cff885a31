import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { PROJECT_ROOT } from "../../lib/data/paths";
import { fileSystemHandler, freezeLayers, loadCheckpoint } from "../../lib/train";

const MOBILENET = path.join(PROJECT_ROOT, "..", "shared", "models", "mobilenet_v2_1.0_224", "tfjs");
const hasMobileNet = fs.existsSync(path.join(MOBILENET, "model.json"));

before(async () => {
  await tf.setBackend("cpu");
});

test("the file-system handler loads the shared multi-shard MobileNetV2, saves it and loads it back identically", { skip: !hasMobileNet }, async () => {
  const { model, info } = await loadCheckpoint(MOBILENET);
  assert.equal(info, null, "no checkpoint.json next to a plain TF.js model");
  assert.equal(model.layers.length, 68);
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mnv2-")), "copy");
  await model.save(fileSystemHandler(dir));
  const copy = await tf.loadLayersModel(fileSystemHandler(dir));
  assert.deepEqual(
    copy.layers.map((l) => l.getClassName()),
    model.layers.map((l) => l.getClassName()),
  );
  const original = model.getWeights();
  const loaded = copy.getWeights();
  assert.equal(loaded.length, original.length);
  original.forEach((w, i) => assert.ok(Buffer.from((w.dataSync() as Float32Array).buffer).equals(Buffer.from((loaded[i].dataSync() as Float32Array).buffer)), `weight ${i}`));

  // The report's freeze_layers on a backbone: the first N layers with weights, or N weight tensors.
  const byLayers = freezeLayers(model, 10);
  assert.equal(byLayers.frozenLayers.length, 10);
  assert.equal(byLayers.frozenWeights.length, 20, "conv kernel + bias per layer (BatchNorm is folded in this model)");
  assert.equal(byLayers.trainableWeights, 106 - 20);
  const byWeights = freezeLayers(copy, { weights: 20 });
  const baseName = (name: string): string => name.replace(/_\d+$/, "");
  assert.deepEqual(byWeights.frozenWeights.map(baseName), byLayers.frozenWeights.map(baseName));
});
