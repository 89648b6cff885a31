import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { batchNormalization, conv2d, initEngine, simdKernelsActive } from "../../lib/engine";
import { createRng } from "../../lib/util";

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

/** A two-conv network built with `make` (the stock layer or ours), weights set from fixed seeds. */
function network(make: typeof conv2d): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  let h = make({ filters: 8, kernelSize: 3, padding: "same", name: "c1" }).apply(input) as tf.SymbolicTensor;
  h = make({ filters: 16, kernelSize: 3, strides: 2, padding: "valid", activation: "relu", name: "c2" }).apply(h) as tf.SymbolicTensor;
  const output = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  model.setWeights(model.getWeights().map((w, i) => randomTensor(w.shape, 10 + i)));
  return model;
}

test("engine conv2d layer: same outputs and weight gradients as tf.layers.conv2d, without the first layer's input gradient", async () => {
  await initEngine({ backend: "wasm", log: false });
  const x = randomTensor([4, 12, 12, 3], 1);
  const results = [];
  for (const make of [tf.layers.conv2d, conv2d]) {
    const model = network(make);
    const inference = model.predict(x) as tf.Tensor;
    const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const step = () => tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
    const profile = await tf.profile(() => {
      const { value, grads } = step();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const { value, grads } = step();
    results.push({
      inference: inference.dataSync(),
      loss: value.dataSync()[0],
      grads: variables.map((v) => grads[v.name].dataSync()),
      inputGradients: profile.kernels.filter((k) => k.name === "Conv2DBackpropInput").length,
      config: model.layers[1].getConfig(),
    });
  }
  const [stock, ours] = results;
  assert.deepEqual(ours.config, stock.config, "same layer config (saved models are stock Conv2D)");
  const close = (a: ArrayLike<number>, b: ArrayLike<number>, label: string) => {
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `${label}[${i}]: ${a[i]} vs ${b[i]}`);
  };
  close(ours.inference, stock.inference, "inference");
  assert.ok(Math.abs(ours.loss - stock.loss) <= 1e-4 * Math.abs(stock.loss));
  ours.grads.forEach((g, i) => close(g, stock.grads[i], `gradient ${i}`));
  assert.equal(stock.inputGradients, 2, "stock: the fused first layer computes its input gradient too");
  assert.equal(ours.inputGradients, 1, "ours: only the second layer's input gradient (the first layer's input needs none)");
});

test("engine batchNormalization layer: training outputs, gradients and moving statistics as tf.layers.batchNormalization on the cpu backend", async () => {
  await initEngine({ backend: "wasm", log: false });
  const shapes: number[][] = [[8, 10, 10, 16], [64, 40], [6, 9, 7, 5]];
  for (const shape of shapes) {
    const x = randomTensor(shape, 3);
    const dy = randomTensor(shape, 4);
    const channels = shape[shape.length - 1];
    const run = async (make: (args: { momentum: number; epsilon: number }) => tf.layers.Layer) => {
      const layer = make({ momentum: 0.9, epsilon: 1e-3 });
      layer.build(x.shape);
      layer.setWeights([randomTensor([channels], 5), randomTensor([channels], 6), randomTensor([channels], 7), tf.abs(randomTensor([channels], 8))]);
      const variables = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const xVar = tf.variable(x);
      const kernels = (await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xVar, { training: true }) as tf.Tensor, dy)) as tf.Scalar, [xVar, ...variables]);
        tf.dispose([value, ...Object.values(grads)]);
      })).kernels.map((k) => k.name);
      layer.setWeights([randomTensor([channels], 5), randomTensor([channels], 6), randomTensor([channels], 7), tf.abs(randomTensor([channels], 8))]);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xVar, { training: true }) as tf.Tensor, dy)) as tf.Scalar, [xVar, ...variables]);
      const out = {
        loss: value.dataSync()[0],
        grads: [xVar, ...variables].map((v) => grads[v.name].dataSync()),
        weights: layer.getWeights().map((w) => w.dataSync()),
        inference: (layer.apply(x, { training: false }) as tf.Tensor).dataSync(),
        kernels,
      };
      xVar.dispose();
      return out;
    };
    await tf.setBackend("cpu");
    const stock = await run(tf.layers.batchNormalization);
    await tf.setBackend("wasm");
    const ours = await run(batchNormalization);
    if (simdKernelsActive()) assert.ok(!ours.kernels.includes("Mean") && !ours.kernels.includes("Square"), `${shape}: the fused path ran (${ours.kernels.join(", ")})`);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, label: string) => {
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 2e-4 * (1 + Math.abs(b[i])), `${shape}: ${label}[${i}]: ${a[i]} vs ${b[i]}`);
    };
    assert.ok(Math.abs(ours.loss - stock.loss) <= 1e-4 * (1 + Math.abs(stock.loss)), `${shape}: loss`);
    ["x", "gamma", "beta"].forEach((name, i) => close(ours.grads[i], stock.grads[i], `gradient ${name}`));
    ours.weights.forEach((w, i) => close(w, stock.weights[i], `weight ${i}`));
    close(ours.inference, stock.inference, "inference");
  }
});
