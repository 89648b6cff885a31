import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { fit, predictProba, withSeed, type FitOptions, type History } from "../../lib/train";
import { buildModel, getArchitecture } from "../../lib/models";
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

/** Weights whose gradient is exactly 0 in exact arithmetic: a Dense bias followed by BatchNorm (and the moving mean that tracks it). */
function zeroGradientWeights(model: tf.LayersModel): Set<tf.LayerVariable> {
  const out = new Set<tf.LayerVariable>();
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const source = (layer.inboundNodes[0] as unknown as { inboundLayers: tf.layers.Layer[] }).inboundLayers[0];
    if (source?.getClassName() !== "Dense" || source.weights.length < 2) continue;
    out.add(source.weights[1]);
    out.add(layer.weights.find((w) => w.name.endsWith("moving_mean")) as tf.LayerVariable);
  }
  return out;
}

/** Train a fresh model with the op-based step and with the dense step, same seeds. */
async function bothSteps(build: () => tf.LayersModel, options: Omit<FitOptions, "fastPath">): Promise<{ ops: Trained; dense: Trained }> {
  const run = async (fastPath: boolean): Promise<Trained> => {
    const model = build();
    const history = await fit(model, { ...options, fastPath, verbose: 0 });
    const zero = zeroGradientWeights(model);
    const weights = model.weights.map((w) => w.read().dataSync() as Float32Array);
    const predicted = (await predictProba(model, options.x)).map((p) => p.indexOf(Math.max(...p)));
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

test("fusion network: the dense step trains like the op-based step (losses, metrics, weights to rounding, same dropout)", async () => {
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
  assert.equal(dense.history.step, "dense");
  ops.history.records.forEach((r, i) => {
    const d = dense.history.records[i];
    assert.ok(Math.abs(r.trainLoss - d.trainLoss) < 1e-5, `epoch ${r.epoch}: loss ${r.trainLoss} vs ${d.trainLoss}`);
    assert.equal(d.trainAcc, r.trainAcc);
    assert.equal(d.trainF1Macro, r.trainF1Macro);
  });
  assertClose(ops, dense, 1e-5);
  const agree = ops.predicted.filter((p, i) => p === dense.predicted[i]).length;
  assert.ok(agree >= 148, `${agree}/150 predictions agree`);
  // A different dropout seed changes the dense step's result: the masks are really drawn from the fit's seed.
  const other = buildModel(spec, { meta: 12, embedding: 20 }, { seed: 4, dropout: 0.3 });
  const h = await fit(other, { x, y, epochs: 3, batchSize: 32, seed: 3, verbose: 0, optimizer: { name: "adamw", lr: 1e-3, weightDecay: 1e-4 } });
  assert.notEqual(h.records[2].trainLoss.toFixed(6), dense.history.records[2].trainLoss.toFixed(6));
  other.dispose();
  tf.dispose(x);
});

test("gated fusion (sigmoid gates, Multiply, Add): the dense step trains like the op-based step", async () => {
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
  assert.equal(dense.history.step, "dense");
  ops.history.records.forEach((r, i) => assert.ok(Math.abs(r.trainLoss - dense.history.records[i].trainLoss) < 1e-5, `epoch ${r.epoch}: loss ${r.trainLoss} vs ${dense.history.records[i].trainLoss}`));
  assertClose(ops, dense, 1e-5);
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
      assert.equal(dense.history.step, "dense");
      ops.history.records.forEach((r, i) => assert.ok(Math.abs(r.trainLoss - dense.history.records[i].trainLoss) < 1e-5, `${optimizer.name} logits=${logits}: loss`));
      assertClose(ops, dense, 1e-4);
    }
  }
  tf.dispose(x);
});

test("models or settings the dense step does not cover train with the op-based step", async () => {
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
});
