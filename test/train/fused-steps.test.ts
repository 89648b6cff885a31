import { test, before } from "node:test";
import { spawnSync } from "child_process";
import * as path from "path";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createOptimizer, fit, predictProba, withSeed, type BatchSource, type FitOptions, type History } from "../../lib/train";
import { compileFusedSteps } from "../../lib/train/fused-steps";
import { buildModel, getArchitecture } from "../../lib/models";
import { buildClassifier } from "../../lib/models/classifier";
import { batchNormalization, conv2d } from "../../lib/engine";
import { nativeKernelStatus } from "../../lib/engine/native";
import { createRng } from "../../lib/util/random";

before(async () => {
  await tf.setBackend("cpu");
});

function data(n: number, widths: number[], seed: number): { x: tf.Tensor2D[]; y: number[] } {
  const rng = createRng(seed);
  const y = Array.from({ length: n }, (_, i) => (i * 7) % 3);
  const x = widths.map((w) => tf.tensor2d(Float32Array.from({ length: n * w }, (_, e) => rng.normal() + (e % w === y[Math.floor(e / w)] ? 1.5 : 0)), [n, w]));
  return { x, y };
}

interface Trained {
  history: History;
  weights: Float32Array[];
  /** Per weight: a Dense bias feeding a BatchNorm, or that BatchNorm's moving mean (see assertClose). */
  noise: boolean[];
  names: string[];
  predicted: number[];
}

/** Weights whose gradient is exactly 0 in exact arithmetic: a Dense or Conv2D bias followed by BatchNorm (and the moving mean that tracks it). */
function zeroGradientWeights(model: tf.LayersModel): Set<tf.LayerVariable> {
  const out = new Set<tf.LayerVariable>();
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const source = (layer.inboundNodes[0] as unknown as { inboundLayers: tf.layers.Layer[] }).inboundLayers[0];
    if (!["Dense", "Conv2D"].includes(source?.getClassName() ?? "") || source.weights.length < 2) continue;
    out.add(source.weights[1]);
    out.add(layer.weights.find((w) => w.name.endsWith("moving_mean")) as tf.LayerVariable);
  }
  return out;
}

/** Train a fresh model with the op-based step and with the fused step, same seeds. */
async function bothSteps(build: () => tf.LayersModel, options: Omit<FitOptions, "fastPath">, predictX: FitOptions["x"] = options.x): Promise<{ ops: Trained; dense: Trained }> {
  const run = async (fastPath: boolean): Promise<Trained> => {
    const model = build();
    const history = await fit(model, { ...options, fastPath, verbose: 0 });
    const zero = zeroGradientWeights(model);
    const weights = model.weights.map((w) => w.read().dataSync() as Float32Array);
    const predicted = (await predictProba(model, predictX)).map((p) => p.indexOf(Math.max(...p)));
    const result = { history, weights, noise: model.weights.map((w) => zero.has(w)), names: model.weights.map((w) => w.name), predicted };
    model.dispose();
    return result;
  };
  return { ops: await run(false), dense: await run(true) };
}

/**
 * A Dense layer's bias followed by BatchNorm has a gradient of exactly 0 in exact arithmetic (the normalisation
 * removes it): both steps feed Adam float32 rounding noise there, which Adam scales to ±lr per step, so those
 * biases (and the moving means that follow them) are compared loosely; everything else to float32 rounding.
 */
function assertClose(ops: Trained, dense: Trained, strictTolerance: number): void {
  ops.weights.forEach((a, w) => {
    const b = dense.weights[w];
    const tolerance = ops.noise[w] ? 0.05 : strictTolerance;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst <= tolerance, `${ops.names[w]}: max |ops − dense| = ${worst} > ${tolerance}`);
  });
}

/** The fused run took the fused step, and its per-epoch losses and final weights match the op-based run's. */
function assertTrainsLikeOps(ops: Trained, fused: Trained, tolerance: { loss: number; weights: number }): void {
  assert.equal(fused.history.step, "fused");
  ops.history.records.forEach((r, i) => assert.ok(Math.abs(r.trainLoss - fused.history.records[i].trainLoss) < tolerance.loss, `epoch ${r.epoch}: loss ${r.trainLoss} vs ${fused.history.records[i].trainLoss}`));
  assertClose(ops, fused, tolerance.weights);
}

test("fusion network: the fused step trains like the op-based step (losses, metrics, weights to rounding, same dropout)", async () => {
  const { x, y } = data(150, [12, 20], 1);
  const spec = getArchitecture("NetEngagementPOIFinal");
  const { ops, dense } = await bothSteps(() => buildModel(spec, { meta: 12, embedding: 20 }, { seed: 4, dropout: 0.3 }), {
    x,
    y,
    epochs: 3,
    batchSize: 32,
    seed: 2,
    optimizer: { name: "adamw", lr: 1e-3, weightDecay: 1e-4 },
    loss: { labelSmoothing: 0.05 },
  });
  assert.equal(ops.history.step, "ops");
  assert.equal(dense.history.step, "fused");
  ops.history.records.forEach((r, i) => {
    const d = dense.history.records[i];
    assert.ok(Math.abs(r.trainLoss - d.trainLoss) < 1e-5, `epoch ${r.epoch}: loss ${r.trainLoss} vs ${d.trainLoss}`);
    assert.equal(d.trainAcc, r.trainAcc);
    assert.equal(d.trainF1Macro, r.trainF1Macro);
  });
  assertClose(ops, dense, 1e-5);
  const agree = ops.predicted.filter((p, i) => p === dense.predicted[i]).length;
  assert.ok(agree >= 148, `${agree}/150 predictions agree`);
  // A different dropout seed changes the fused step's result: the masks are really drawn from the fit's seed.
  const other = buildModel(spec, { meta: 12, embedding: 20 }, { seed: 4, dropout: 0.3 });
  const h = await fit(other, { x, y, epochs: 3, batchSize: 32, seed: 3, verbose: 0, optimizer: { name: "adamw", lr: 1e-3, weightDecay: 1e-4 } });
  assert.notEqual(h.records[2].trainLoss.toFixed(6), dense.history.records[2].trainLoss.toFixed(6));
  other.dispose();
  tf.dispose(x);
});

test("gated fusion (sigmoid gates, Multiply, Add): the fused step trains like the op-based step", async () => {
  const { x, y } = data(120, [12, 8, 20], 5);
  const spec = getArchitecture("FusionGated");
  const { ops, dense } = await bothSteps(() => buildModel(spec, { meta: 12, stats: 8, embedding: 20 }, { seed: 6, dropout: 0.3 }), {
    x,
    y,
    epochs: 3,
    batchSize: 32,
    seed: 2,
    optimizer: { name: "adam", lr: 1e-3 },
  });
  assert.equal(ops.history.step, "ops");
  assertTrainsLikeOps(ops, dense, { loss: 1e-5, weights: 1e-5 });
  tf.dispose(x);
});

test("logits output, class weights, Adam with L2 and SGD with Nesterov momentum agree with the op-based step", async () => {
  const { x, y } = data(90, [6], 3);
  const build = (logits: boolean) => () =>
    withSeed(5, () => {
      const model = tf.sequential();
      model.add(tf.layers.dense({ inputShape: [6], units: 10, activation: "relu" }));
      model.add(tf.layers.batchNormalization());
      model.add(tf.layers.dropout({ rate: 0.2 }));
      model.add(tf.layers.dense({ units: 3, activation: logits ? "linear" : "softmax" }));
      return model;
    });
  for (const optimizer of [{ name: "adam" as const, lr: 1e-2, weightDecay: 1e-3 }, { name: "sgd" as const, lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }]) {
    for (const logits of [false, true]) {
      const { ops, dense } = await bothSteps(build(logits), { x, y: y.map((v) => (v === 2 && (v * 13) % 5 === 0 ? 1 : v)), epochs: 2, batchSize: 16, seed: 1, optimizer, classWeights: "balanced", loss: { labelSmoothing: 0.1 } });
      assert.equal(dense.history.step, "fused");
      ops.history.records.forEach((r, i) => assert.ok(Math.abs(r.trainLoss - dense.history.records[i].trainLoss) < 1e-5, `${optimizer.name} logits=${logits}: loss`));
      assertClose(ops, dense, 1e-4);
    }
  }
  tf.dispose(x);
});

test("models or settings the fused step does not cover train with the op-based step", async () => {
  const { x, y } = data(40, [5], 4);
  const regularised = withSeed(1, () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [5], units: 4, activation: "relu", kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }));
    model.add(tf.layers.dense({ units: 3, activation: "softmax" }));
    return model;
  });
  assert.equal((await fit(regularised, { x: x[0], y, epochs: 1, verbose: 0 })).step, "ops");
  const tanh = withSeed(1, () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [5], units: 4, activation: "tanh" }));
    model.add(tf.layers.dense({ units: 3, activation: "softmax" }));
    return model;
  });
  assert.equal((await fit(tanh, { x: x[0], y, epochs: 1, verbose: 0 })).step, "ops");
  assert.equal((await fit(tanh, { x: x[0], y, epochs: 1, verbose: 0, fastPath: false })).step, "ops");
  regularised.dispose();
  tanh.dispose();
  tf.dispose(x);
  // Activations beyond the step's memory are refused before anything is allocated (8 GiB here).
  const wide = withSeed(1, () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [256, 256, 3], filters: 64, kernelSize: 3, padding: "same" }));
    model.add(tf.layers.globalAveragePooling2d({}));
    model.add(tf.layers.dense({ units: 3, activation: "softmax" }));
    return model;
  });
  const compiled = compileFusedSteps(wide, null, { maxBatch: 512, fromLogits: false, optimizer: createOptimizer({ name: "adam", lr: 1e-3 }) });
  assert.ok("unsupported" in compiled && /GiB for batches of 512, over the fused step's 3 GiB/.test(compiled.unsupported), JSON.stringify(compiled));
  wide.dispose();
});

/** Images whose class shows as a brighter square in one of three places. */
function images(n: number, size: number, channels: number, seed: number): { x: tf.Tensor4D; y: number[] } {
  const rng = createRng(seed);
  const y = Array.from({ length: n }, (_, i) => (i * 5) % 3);
  const values = new Float32Array(n * size * size * channels);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < size * size; p++) {
      const [row, col] = [Math.floor(p / size), p % size];
      const inSquare = Math.floor(row / (size / 3)) === y[i] && col < size / 2;
      for (let c = 0; c < channels; c++) values[(i * size * size + p) * channels + c] = rng.normal() * 0.5 + (inSquare ? 1 : 0);
    }
  }
  return { x: tf.tensor4d(values, [n, size, size, channels]), y };
}

test("native kernels build here (a C compiler and Node's headers are part of the install)", () => {
  const status = nativeKernelStatus();
  assert.ok(status.kernels, `native training kernels: ${status.detail}`);
  assert.ok(status.kernels.threads() >= 1);
});

test("small CNN (conv → batch norm → relu → max pool → conv relu → global average → dense): the fused step trains like the op-based step", async () => {
  const { x, y } = images(40, 12, 3, 7);
  const build = () =>
    withSeed(3, () => {
      const input = tf.input({ shape: [12, 12, 3] });
      let h = conv2d({ filters: 8, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
      h = batchNormalization().apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
      h = conv2d({ filters: 12, kernelSize: 3, padding: "same", activation: "relu" }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor });
    });
  const { ops, dense } = await bothSteps(build, { x, y, epochs: 3, batchSize: 16, seed: 2, optimizer: { name: "adam", lr: 1e-2 } });
  assert.equal(ops.history.step, "ops");
  assertTrainsLikeOps(ops, dense, { loss: 1e-4, weights: 2e-4 });
  assert.ok(dense.history.records[2].trainLoss < dense.history.records[0].trainLoss, "the loss falls");
  // Reproducible: the native kernels' threads sum in a fixed order, so the same seed gives the same bits.
  const again = build();
  await fit(again, { x, y, epochs: 3, batchSize: 16, seed: 2, optimizer: { name: "adam", lr: 1e-2 }, verbose: 0 });
  again.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), dense.weights[i], `${w.name} differs between two runs with one seed`));
  again.dispose();
  tf.dispose(x);
});

test("a residual block (conv → BN → relu → conv → BN, Add with a 1×1 projection, relu, 3×3/2 max pool): fused = ops", async () => {
  const { x, y } = images(24, 10, 4, 13);
  const build = () =>
    withSeed(8, () => {
      const input = tf.input({ shape: [10, 10, 4] });
      let h = conv2d({ filters: 8, kernelSize: 3, padding: "same", useBias: false }).apply(input) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
      h = conv2d({ filters: 8, kernelSize: 3, padding: "same", useBias: false }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
      const shortcut = conv2d({ filters: 8, kernelSize: 1, useBias: false }).apply(input) as tf.SymbolicTensor;
      h = tf.layers.add().apply([h, shortcut]) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor });
    });
  const { ops, dense } = await bothSteps(build, { x, y, epochs: 2, batchSize: 8, seed: 3, optimizer: { name: "adam", lr: 1e-2 } });
  assertTrainsLikeOps(ops, dense, { loss: 1e-4, weights: 2e-4 });
  tf.dispose(x);
});

test("a backbone applied as a layer (a nested model, dropout inside and after it) is inlined: fused = ops, same dropout", async () => {
  const { x, y } = images(24, 8, 3, 17);
  const build = () =>
    withSeed(9, () => {
      const inner = tf.input({ shape: [8, 8, 3] });
      let f = conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu" }).apply(inner) as tf.SymbolicTensor;
      f = tf.layers.dropout({ rate: 0.2 }).apply(f) as tf.SymbolicTensor;
      f = tf.layers.globalAveragePooling2d({}).apply(f) as tf.SymbolicTensor;
      const backbone = tf.model({ inputs: inner, outputs: f, name: "backbone" });
      const input = tf.input({ shape: [8, 8, 3] });
      let h = backbone.apply(input) as tf.SymbolicTensor;
      h = tf.layers.dropout({ rate: 0.3 }).apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor });
    });
  const { ops, dense } = await bothSteps(build, { x, y, epochs: 2, batchSize: 8, seed: 5, optimizer: { name: "sgd", lr: 0.1, momentum: 0.9 } });
  assertTrainsLikeOps(ops, dense, { loss: 1e-5, weights: 1e-4 });
  tf.dispose(x);
});

test("strided and valid-padded convolutions, 3×3 max pools with stride 2 and same padding, flatten, logits: fused = ops", async () => {
  const { x, y } = images(24, 13, 2, 9);
  const build = () =>
    withSeed(4, () => {
      const model = tf.sequential();
      model.add(tf.layers.conv2d({ inputShape: [13, 13, 2], filters: 5, kernelSize: [3, 2], strides: [2, 1], padding: "same", activation: "relu" }));
      model.add(tf.layers.conv2d({ filters: 40, kernelSize: 3, padding: "valid", useBias: false }));
      model.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }));
      model.add(tf.layers.flatten());
      model.add(tf.layers.dense({ units: 3 }));
      return model;
    });
  const { ops, dense } = await bothSteps(build, { x, y, epochs: 2, batchSize: 10, seed: 1, optimizer: { name: "sgd", lr: 0.05, momentum: 0.9 } });
  assertTrainsLikeOps(ops, dense, { loss: 1e-4, weights: 1e-4 });
  tf.dispose(x);
});

test("the classifier's pixel branch from a BatchSource (images made per batch): fused = ops, same dropout", async () => {
  const { x, y } = images(30, 12, 1, 11);
  const source: BatchSource = {
    size: 30,
    batch: (indices) => tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from(indices), "int32")).mul(1.5)),
  };
  const build = () => buildClassifier({ numClasses: 3, image: { kind: "pixels", size: 12, channels: 1, filters: [4, 6], units: [8] }, seed: 5, dropout: 0.25 });
  // SGD: a convolution channel that stays active everywhere feeds the Dense → BatchNorm block a constant, so its
  // bias has a gradient of exactly 0 in exact arithmetic, which Adam would scale from rounding noise up to ±lr.
  const { ops, dense } = await bothSteps(build, { x: source, y, epochs: 3, batchSize: 8, seed: 6, optimizer: { name: "sgd", lr: 0.05, momentum: 0.9, weightDecay: 1e-3 } }, x.mul(1.5));
  assert.equal(ops.history.step, "ops");
  assertTrainsLikeOps(ops, dense, { loss: 1e-4, weights: 2e-4 });
  tf.dispose(x);
});

test("without the native kernels (POI_NATIVE=0) a CNN trains with the op-based step and a dense network still fused", () => {
  const script = `
    const tf = require("@tensorflow/tfjs");
    const { fit, withSeed } = require(${JSON.stringify(path.join(__dirname, "..", "..", "lib", "train"))});
    const { nativeKernelStatus } = require(${JSON.stringify(path.join(__dirname, "..", "..", "lib", "engine", "native"))});
    (async () => {
      await tf.setBackend("cpu");
      const cnn = withSeed(1, () => {
        const m = tf.sequential();
        m.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: "relu" }));
        m.add(tf.layers.flatten());
        m.add(tf.layers.dense({ units: 2, activation: "softmax" }));
        return m;
      });
      const mlp = withSeed(1, () => {
        const m = tf.sequential();
        m.add(tf.layers.dense({ inputShape: [4], units: 2, activation: "softmax" }));
        return m;
      });
      const y = [0, 1, 0, 1];
      const a = await fit(cnn, { x: tf.randomUniform([4, 6, 6, 1]), y, epochs: 1, verbose: 0 });
      const b = await fit(mlp, { x: tf.randomUniform([4, 4]), y, epochs: 1, verbose: 0 });
      console.log(JSON.stringify({ cnn: a.step, mlp: b.step, detail: nativeKernelStatus().detail, loss: a.records[0].trainLoss }));
    })();`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { env: { ...process.env, POI_NATIVE: "0" }, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout.trim().split("\n").pop() as string);
  assert.deepEqual([out.cnn, out.mlp, out.detail], ["ops", "fused", "turned off (POI_NATIVE=0)"]);
  assert.ok(Number.isFinite(out.loss));
});
