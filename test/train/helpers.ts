import * as tf from "@tensorflow/tfjs";
import { createRng } from "../../lib/util/random";
import { withSeed } from "../../lib/train";

/** Three Gaussian blobs in `dims` dimensions: easy to separate, so a few epochs learn them. */
export function blobs(n: number, seed: number, dims = 4): { x: tf.Tensor2D; y: number[] } {
  const rng = createRng(seed);
  const data: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    y.push(label);
    for (let d = 0; d < dims; d++) data.push(rng.normal() * 0.6 + (d % 3 === label ? 2 : 0));
  }
  return { x: tf.tensor2d(data, [n, dims]), y };
}

export function tinyMlp(seed: number, options: { dims?: number; dropout?: number; logits?: boolean } = {}): tf.LayersModel {
  return withSeed(seed, () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [options.dims ?? 4], units: 8, activation: "relu" }));
    if (options.dropout) model.add(tf.layers.dropout({ rate: options.dropout }));
    model.add(tf.layers.dense({ units: 3, activation: options.logits ? "linear" : "softmax" }));
    return model;
  });
}
