import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../lib/engine";
import { createRng } from "../../lib/util";

/** Whole-model gradients and training on wasm, checked against the cpu backend and for tensor leaks. */

function randomArray(label: string, size: number, scale = 1): Float32Array {
  const rng = createRng(11).fork(label);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = scale * rng.normal();
  return out;
}

/** Max abs difference relative to the reference's max magnitude (floored at `floor`). */
function relativeError(actual: Float32Array, expected: Float32Array, floor = 0): number {
  let scale = floor;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  return scale === 0 ? (worst === 0 ? 0 : Infinity) : worst / scale;
}

/** Conv, BatchNorm, pooling, depthwise (multiplier 2, stride 2), relu6, 1×1 conv, global pooling, dense. */
function buildNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: "same" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: "relu6" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: "relu" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.averagePooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

const BATCH = 6;
const xData = randomArray("x", BATCH * 16 * 16 * 3);
const labels = Array.from({ length: BATCH }, (_, i) => i % 3);

async function modelGradients(backend: "cpu" | "wasm"): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const model = buildNet();
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(randomArray(`w${i}`, w.size, 0.3), w.shape)));
  const grads = tf.tidy(() => {
    const x = tf.tensor4d(xData, [BATCH, 16, 16, 3]);
    const y = tf.oneHot(labels, 3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    return vars.map((v) => grads[v.name]);
  });
  const arrays = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose(grads);
  model.dispose();
  return arrays;
}

test("whole-model gradients on wasm match cpu (conv, batchnorm, depthwise, pooling, dense)", async () => {
  await initEngine({ backend: "wasm", log: false });
  const expected = await modelGradients("cpu");
  const actual = await modelGradients("wasm");
  assert.equal(actual.length, expected.length);
  // The conv bias before BatchNorm has a zero gradient in exact arithmetic (BN removes the mean), so
  // errors are measured against a floor of 1e-3 × the largest gradient in the model.
  const largest = Math.max(...expected.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  for (let i = 0; i < expected.length; i++) {
    const error = relativeError(actual[i], expected[i], 1e-3 * largest);
    assert.ok(error < 1e-3, `variable ${i}: relative error ${error}`);
  }
});

test("batchNorm gradient (engine's per-channel form) matches the same formula written with primitive ops", async () => {
  await initEngine({ backend: "wasm", log: false });
  const shape: [number, number, number, number] = [4, 5, 6, 3];
  const x0 = randomArray("bn-x", 4 * 5 * 6 * 3);
  const g0 = randomArray("bn-gamma", 3);
  const b0 = randomArray("bn-beta", 3);
  const r0 = randomArray("bn-r", 4 * 5 * 6 * 3);
  const run = (useKernel: boolean): Float32Array[] => {
    const out = tf.tidy(() => {
      const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const y = useKernel
          ? tf.batchNorm(x as tf.Tensor4D, mean, variance, beta, gamma, 1e-3)
          : tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-3))), gamma), beta);
        return tf.sum(tf.mul(y, tf.tensor(r0, shape)));
      };
      return tf.grads(f)([tf.tensor(x0, shape), tf.tensor(g0, [3]), tf.tensor(b0, [3])]);
    });
    const arrays = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    return arrays;
  };
  await tf.setBackend("cpu");
  const reference = run(false);
  await tf.setBackend("wasm");
  const actual = run(true);
  for (let i = 0; i < 3; i++) assert.ok(relativeError(actual[i], reference[i]) < 1e-4, `input ${i}: ${relativeError(actual[i], reference[i])}`);
});

test("training on wasm: loss falls and tf.memory().numTensors is stable across epochs", async () => {
  await initEngine({ backend: "wasm", log: false });
  await tf.setBackend("wasm");
  const model = buildNet();
  model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
  const x = tf.tensor4d(xData, [BATCH, 16, 16, 3]);
  const y = tf.oneHot(labels, 3);
  const counts: number[] = [];
  const losses: number[] = [];
  await model.fit(x, y, {
    epochs: 8,
    batchSize: 3,
    shuffle: false,
    verbose: 0,
    callbacks: {
      onEpochEnd: async (_epoch, logs) => {
        counts.push(tf.memory().numTensors);
        losses.push(logs!.loss as number);
      },
    },
  });
  assert.ok(losses[losses.length - 1] < losses[0], `loss ${losses[0]} → ${losses[losses.length - 1]}`);
  assert.deepEqual(counts.slice(1), counts.slice(1).map(() => counts[1]), `numTensors per epoch: ${counts.join(", ")}`);
  tf.dispose([x, y]);
  model.dispose();
});
