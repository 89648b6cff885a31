import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { balancedOrder, crossEntropyPerSample } from "../../lib/train";
import { createRng } from "../../lib/util/random";

tf.setBackend("cpu");

test("focal loss: −Σ y (1 − p)^γ log p; γ = 0 is cross-entropy", () => {
  const targets = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
  const probs = tf.tensor2d([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]]);
  const ce = Array.from(crossEntropyPerSample(targets, probs).dataSync());
  const focal = Array.from(crossEntropyPerSample(targets, probs, false, 2).dataSync());
  [[0.7, ce[0], focal[0]], [0.5, ce[1], focal[1]]].forEach(([p, c, f]) => {
    assert.ok(Math.abs(c + Math.log(p)) < 1e-6);
    assert.ok(Math.abs(f + (1 - p) ** 2 * Math.log(p)) < 1e-6);
  });
  const logits = tf.tensor2d([[2, 0, -1]]);
  const fromLogits = crossEntropyPerSample(tf.tensor2d([[1, 0, 0]]), logits, true, 2).dataSync()[0];
  const p = tf.softmax(logits).dataSync()[0];
  assert.ok(Math.abs(fromLogits + (1 - p) ** 2 * Math.log(p)) < 1e-5);
});

test("balanced sampling draws every class about equally, seeded", () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : i < 990 ? 1 : 2));
  const order = balancedOrder(labels, 3, createRng(5));
  assert.equal(order.length, 1000);
  const counts = [0, 0, 0];
  order.forEach((i) => counts[labels[i]]++);
  counts.forEach((c) => assert.ok(c > 280 && c < 390, `class drawn ${c} times of 1000`));
  assert.deepEqual(order, balancedOrder(labels, 3, createRng(5)));
});
