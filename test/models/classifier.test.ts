import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildClassifier, classifierInputNames } from "../../lib/models";

tf.setBackend("cpu");

test("N-class classifiers: small CNN, embedding + metadata fusion, metadata only", () => {
  const cnn = buildClassifier({ numClasses: 10, image: { kind: "pixels", size: 28, channels: 1, filters: [4, 8], units: [16] } });
  assert.deepEqual(cnn.inputs.map((i) => i.shape), [[null, 28, 28, 1]]);
  assert.deepEqual(cnn.outputs[0].shape, [null, 10]);
  const fusion = buildClassifier({ numClasses: 8, image: { kind: "embedding", dim: 32 }, meta: { dim: 5 } });
  assert.deepEqual(fusion.inputs.map((i) => i.shape), [[null, 32], [null, 5]]);
  assert.deepEqual(classifierInputNames({ image: { kind: "embedding", dim: 32 }, meta: { dim: 5 } }), ["image", "meta"]);
  const out = fusion.predict([tf.ones([3, 32]), tf.ones([3, 5])]) as tf.Tensor;
  assert.deepEqual(out.shape, [3, 8]);
  const sums = out.sum(-1).arraySync() as number[];
  sums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5));
  const linear = buildClassifier({ numClasses: 11, meta: { dim: 9, units: [] } });
  assert.equal(linear.trainableWeights.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0), 9 * 11 + 11);
  const again = buildClassifier({ numClasses: 8, image: { kind: "embedding", dim: 32 }, meta: { dim: 5 }, seed: 0 });
  assert.deepEqual(Array.from(again.getWeights()[0].dataSync()), Array.from(fusion.getWeights()[0].dataSync()));
  assert.throws(() => buildClassifier({ numClasses: 1, meta: { dim: 2 } }), /numClasses must be an integer ≥ 2/);
});
