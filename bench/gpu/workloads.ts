import * as tf from "@tensorflow/tfjs";
import { BACKBONE_NAMES, createBackbone, hasPretrainedMobileNet, loadMobileNetV2 } from "../../lib/engine";
import { gradCam } from "../../lib/eval";
import { buildModel } from "../../lib/models";
import { categoricalCrossEntropy, fit, outputsLogits, predictProba, smoothedOneHot, trainableVariables, withSeed } from "../../lib/train";
import { createRng } from "../../lib/util";
import { smallCnnModel } from "../engine/small-cnn";
import type { Tolerance } from "./compare";

/**
 * What the notebooks compute, in small fixed pieces with seeded weights and inputs, so that two backends can be
 * compared value by value (bench/gpu/check.ts: webgpu against wasm) and the kernels they dispatch listed
 * (test/engine/webgpu-kernels.test.ts). Everything is read with `await data()`: synchronous reads do not exist on
 * WebGPU in Node.
 *
 * "check" is the size the GPU check compares (the real MobileNetV2 weights when present); "small" dispatches the same
 * kernels at sizes the plain-JavaScript cpu backend runs in seconds.
 */
export type WorkloadSize = "check" | "small";

/** Named outputs of one workload (flattened). */
export type WorkloadValues = Record<string, Float32Array>;

export interface Workload {
  name: string;
  /** What it stands for in the notebooks. */
  covers: string;
  /**
   * How close webgpu must come to wasm. Float32 on both sides, but the GPU sums in other orders (tiled matrix
   * products, parallel reductions) and tfjs' WebGPU kernels are separate implementations: rounding grows with depth.
   */
  tolerance: Tolerance;
  run(size: WorkloadSize): Promise<WorkloadValues>;
}

function seededTensor(shape: number[], seed: number, low: number, high: number): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.uniform(low, high)), shape);
}

function seededLabels(n: number, classes: number, seed: number): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => rng.int(classes));
}

async function read(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/** Loss and the gradient of every trainable weight for one batch in training mode (BatchNorm on batch statistics). */
async function lossAndGradients(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], labels: Int32Array): Promise<WorkloadValues> {
  const numClasses = model.outputs[0].shape[1] as number;
  const variables = trainableVariables(model);
  const fromLogits = outputsLogits(model);
  const { value, grads } = tf.tidy(() => {
    const targets = smoothedOneHot(labels, numClasses);
    return tf.variableGrads(() => categoricalCrossEntropy(targets, model.apply(x, { training: true }) as tf.Tensor, { fromLogits }), variables);
  });
  const out: WorkloadValues = { loss: await read(value) };
  for (const v of variables) out[`grad:${v.name}`] = await read(grads[v.name]);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

export const WORKLOADS: Workload[] = [
  {
    name: "mobilenet_v2_embedding",
    tolerance: { rtol: 1e-3, atol: 1e-5, why: "53 layers of float32 convolutions summed in another order" },
    covers: "the frozen MobileNetV2 embedding (notebooks 04–07, embedImages): backbone.embed with fused convolutions",
    async run(size) {
      const backbone =
        size === "check"
          ? hasPretrainedMobileNet()
            ? await loadMobileNetV2()
            : createBackbone("mobilenet-v2", { seed: 0 })
          : createBackbone("mobilenet-v2", { inputSize: 32, seed: 0 });
      const n = size === "check" ? 8 : 2;
      const s = backbone.inputSize;
      const pixels = seededTensor([n, s, s, 3], 1, 0, 255) as tf.Tensor4D;
      const embedding = backbone.embed(pixels);
      const values = { embedding: await read(embedding) };
      tf.dispose([pixels, embedding]);
      backbone.model.dispose();
      return values;
    },
  },
  {
    name: "fusion_network_step",
    tolerance: { rtol: 1e-3, atol: 1e-6, why: "one forward and backward pass of dense layers with BatchNorm" },
    covers: "one training step of a fusion network (notebooks 05–07): loss and every weight's gradient, dropout off",
    async run(size) {
      const dims = { meta: 24, embedding: size === "check" ? 1280 : 64 };
      const model = buildModel("NetEngagementPOIFinal", dims, { seed: 0, dropout: 0 });
      const n = size === "check" ? 64 : 8;
      const inputs = model.inputs.map((input, i) => seededTensor([n, input.shape[1] as number], 10 + i, -1, 1));
      const values = await lossAndGradients(model, inputs, seededLabels(n, 3, 2));
      tf.dispose(inputs);
      model.dispose();
      return values;
    },
  },
  {
    name: "fusion_network_fit",
    tolerance: { rtol: 2e-2, atol: 1e-4, why: "two epochs of AdamW: early steps are close to lr·sign(g), so rounding in a g near 0 moves a weight by up to 2·lr" },
    covers: "lib/train's fit loop as notebooks 05–07 run it (AdamW, dropout, validation each epoch), then predictProba",
    async run(size) {
      const model = buildModel("NetEngagementPOIFinal", { meta: 24, embedding: size === "check" ? 1280 : 64 }, { seed: 0 });
      const n = size === "check" ? 192 : 24;
      const x = model.inputs.map((input, i) => seededTensor([n, input.shape[1] as number], 20 + i, -1, 1));
      const y = seededLabels(n, 3, 3);
      const half = n / 2;
      const part = (from: number, to: number) => x.map((t) => t.slice([from, 0], [to - from, t.shape[1] as number]));
      const [trainX, valX] = [part(0, half), part(half, n)];
      const history = await fit(model, {
        x: trainX,
        y: y.subarray(0, half),
        validation: { x: valX, y: y.subarray(half) },
        epochs: 2,
        batchSize: size === "check" ? 32 : 8,
        optimizer: { name: "adamw", lr: 1e-3, weightDecay: 1e-4 },
        seed: 0,
        verbose: 0,
      });
      const proba = await predictProba(model, valX);
      const values: WorkloadValues = {
        trainLoss: Float32Array.from(history.records, (r) => r.trainLoss),
        valLoss: Float32Array.from(history.records, (r) => r.valLoss ?? NaN),
        probabilities: Float32Array.from(proba.flatMap((row) => Array.from(row))),
      };
      tf.dispose([...x, ...trainX, ...valX]);
      model.dispose();
      return values;
    },
  },
  {
    name: "small_cnn_step",
    tolerance: { rtol: 1e-3, atol: 1e-6, why: "one forward and backward pass; the tfjs-layers fit loss after two Adam steps shares the bound" },
    covers: "the small CNN trained end to end (bench small_cnn_epoch): one step's gradients, then a tfjs-layers fit epoch",
    async run(size) {
      const model = withSeed(0, () => smallCnnModel());
      const n = size === "check" ? 32 : 2;
      const x = seededTensor([n, 64, 64, 3], 4, 0, 1);
      const labels = seededLabels(n, 3, 5);
      const values = await lossAndGradients(model, x, labels);
      const y = tf.oneHot(tf.tensor1d(labels, "int32"), 3);
      model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
      const history = await model.fit(x, y, { epochs: 1, batchSize: n / 2, shuffle: false, verbose: 0 });
      values.fitLoss = Float32Array.from(history.history.loss as number[]);
      tf.dispose([x, y]);
      model.dispose();
      return values;
    },
  },
  {
    name: "backbones_step",
    tolerance: { rtol: 5e-3, atol: 1e-6, why: "ResNet-50 / EfficientNet-B0 depth with BatchNorm over 2 images, which amplifies rounding" },
    covers: "the trainable backbones (any-dataset notebooks): one step's gradients of each, with a dense head",
    async run(size) {
      const values: WorkloadValues = {};
      const [s, n] = size === "check" ? [64, 2] : [16, 1];
      for (const name of BACKBONE_NAMES) {
        const backbone = createBackbone(name, { inputSize: s, seed: 0 });
        const model = withSeed(0, () => {
          const input = tf.input({ shape: [s, s, 3] });
          const features = backbone.model.apply(input) as tf.SymbolicTensor;
          return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: "softmax" }).apply(features) as tf.SymbolicTensor });
        });
        const x = seededTensor([n, s, s, 3], 6, -1, 1);
        const step = await lossAndGradients(model, x, seededLabels(n, 3, 7));
        for (const [key, value] of Object.entries(step)) values[`${name}/${key}`] = value;
        x.dispose();
        model.dispose();
      }
      return values;
    },
  },
  {
    name: "grad_cam",
    tolerance: { rtol: 1e-3, atol: 2e-3, why: "heat maps scaled to [0, 1], and probabilities" },
    covers: "Grad-CAM (notebook 07): heat maps, class scores and probabilities of the small CNN for seeded images",
    async run(size) {
      const model = withSeed(1, () => smallCnnModel());
      const x = seededTensor([size === "check" ? 4 : 2, 64, 64, 3], 8, 0, 1);
      const results = await gradCam(model, x);
      const values: WorkloadValues = {};
      results.forEach((r, i) => {
        values[`heatmap:${i}`] = r.heatmap.data;
        values[`probabilities:${i}`] = Float32Array.from(r.probabilities);
      });
      x.dispose();
      model.dispose();
      return values;
    },
  },
];
