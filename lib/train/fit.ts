/**
 * The training loop: plain TensorFlow.js ops, so it runs on whichever backend is active.
 *
 *   const history = await fit(model, {
 *     x: [imageEmbeddings, metadata], y: labels,               // one tensor per model input
 *     validation: { x: [valEmb, valMeta], y: valLabels },
 *     epochs: 30, batchSize: 32, seed: 42,
 *     optimizer: { name: "adamw", lr: 1e-3, weightDecay: 1e-4 },
 *     loss: { labelSmoothing: 0.1 }, classWeights: "balanced",
 *     callbacks: [earlyStopping({ monitor: "val_f1_macro", patience: 5 }), modelCheckpoint({ name: "fusion" })],
 *   });
 *
 * Labels are integer class indices. Training accuracy/F1 come from the predictions made during the
 * epoch's training steps (as Keras reports them); validation metrics from a full pass in inference
 * mode after the epoch. The validation loss uses the same label smoothing (and focal γ) but no class weights.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, type Rng } from "../util/random";
import { progressLogger, type Callback, type EpochRecord, type TrainingContext } from "./callbacks";
import { computeClassWeights, type ClassWeightSpec } from "./class-weights";
import { trainableVariables } from "./freeze";
import { compileFusedSteps, type FusedSteps } from "./fused-steps";
import { categoricalCrossEntropy, crossEntropyPerSample, smoothedOneHot, smoothedTargets, type LossOptions } from "./losses";
import { accuracy, f1Macro } from "./metrics";
import { createOptimizer, type OptimizerSpec, type TrainOptimizer } from "./optimizers";
import { withSeed } from "./seed";

/** Inputs built per batch (e.g. images decoded and augmented on the fly). */
export interface BatchSource {
  /** Number of samples. */
  size: number;
  /** Model inputs (in `model.inputs` order) for these sample indices. */
  batch(indices: readonly number[], ctx: { epoch: number; training: boolean }): tf.Tensor | tf.Tensor[];
}

export type Inputs = tf.Tensor | tf.Tensor[] | BatchSource;

export interface FitOptions {
  x: Inputs;
  /** Integer class labels, one per sample. */
  y: ArrayLike<number>;
  validation?: { x: Inputs; y: ArrayLike<number> };
  epochs: number;
  batchSize?: number;
  /** A spec (default `{ name: "adam", lr: 1e-3 }`) or an optimizer to continue with. */
  optimizer?: OptimizerSpec | TrainOptimizer;
  loss?: LossOptions;
  /** "balanced" (sklearn), weights per class index, or `{ classIndex: weight }`. */
  classWeights?: ClassWeightSpec;
  /**
   * "balanced": each epoch draws n training samples with replacement, every class equally likely (seeded), instead
   * of one pass in shuffled order; minority samples are seen more often. Default "shuffle" (or the order, shuffle: false).
   */
  sampling?: "shuffle" | "balanced";
  callbacks?: Callback[];
  /** Seeds the batch order and dropout masks (default 0). Build the model inside `withSeed` too. */
  seed?: number;
  shuffle?: boolean;
  /** Called after each epoch with its record (after the callbacks). */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** 1 (default): print one line per epoch; 0: silent. */
  verbose?: 0 | 1;
  /** Default: the size of the model's last output dimension. */
  numClasses?: number;
  /** Stops cleanly between batches when aborted (History.interrupted = true). */
  signal?: AbortSignal;
  /**
   * Train with the fused step of fused-steps.ts (default true): used when the model has only the layers it supports
   * (dense networks; small CNNs where the native kernels build), fit creates the optimiser, the loss has no focal
   * term and the backend computes on the CPU; else the TensorFlow.js step.
   */
  fastPath?: boolean;
}

export interface History {
  records: EpochRecord[];
  /** Set when a callback stopped training early. */
  stopReason?: string;
  /** True when `signal` aborted the training. */
  interrupted: boolean;
  /** Total wall time, seconds. */
  seconds: number;
  /** Which training step ran: "fused" (fused-steps.ts) or "ops" (TensorFlow.js ops). */
  step: "fused" | "ops";
}

function isBatchSource(x: Inputs): x is BatchSource {
  return !(x instanceof tf.Tensor) && !Array.isArray(x) && typeof (x as BatchSource).batch === "function";
}

function isTrainOptimizer(o: OptimizerSpec | TrainOptimizer): o is TrainOptimizer {
  return typeof (o as TrainOptimizer).step === "function";
}

function inputCount(x: Inputs, which: string, model: tf.LayersModel): number {
  if (isBatchSource(x)) return x.size;
  const tensors = Array.isArray(x) ? x : [x];
  if (tensors.length !== model.inputs.length) {
    throw new Error(`${which}: model ${model.name} has ${model.inputs.length} inputs but ${tensors.length} tensors were given`);
  }
  const n = tensors[0].shape[0];
  tensors.forEach((t, i) => {
    if (t.shape[0] !== n) throw new Error(`${which}: input ${i} has ${t.shape[0]} rows but input 0 has ${n}`);
  });
  return n;
}

/** Model inputs for some rows (a new tensor or tensors, caller disposes). */
function gatherInputs(x: Inputs, indices: readonly number[], ctx: { epoch: number; training: boolean }): tf.Tensor[] {
  if (isBatchSource(x)) {
    const out = x.batch(indices, ctx);
    return Array.isArray(out) ? out : [out];
  }
  const tensors = Array.isArray(x) ? x : [x];
  return tf.tidy(() => {
    const index = tf.tensor1d(Int32Array.from(indices), "int32");
    return tensors.map((t) => tf.gather(t, index));
  });
}

function outputUnits(model: tf.LayersModel): number {
  const shape = model.outputs[0].shape;
  const units = shape[shape.length - 1];
  if (typeof units !== "number") throw new Error(`model ${model.name}: cannot read the number of classes from output shape ${JSON.stringify(shape)}`);
  return units;
}

/** True when the last layer has no softmax (linear activation), i.e. the model outputs logits. */
export function outputsLogits(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const activation = (last.getConfig() as { activation?: string }).activation;
  return activation === "linear";
}

function checkLabels(y: ArrayLike<number>, numClasses: number, which: string): Int32Array {
  const labels = Int32Array.from(y as ArrayLike<number>);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== y[i] || labels[i] < 0 || labels[i] >= numClasses) {
      throw new Error(`${which}: label ${y[i]} at index ${i} is not a class index in [0, ${numClasses})`);
    }
  }
  return labels;
}

export interface EvaluationResult {
  loss: number;
  accuracy: number;
  f1Macro: number;
  /** argmax class per sample. */
  predictions: Int32Array;
}

/**
 * Class probabilities (softmax applied when the model outputs logits), inference mode, in batches. Async: results
 * are read with `await data()`, the only way to read a GPU tensor on WebGPU in Node.
 */
export async function predictProba(model: tf.LayersModel, x: Inputs, options: { batchSize?: number; fromLogits?: boolean } = {}): Promise<Float32Array[]> {
  const n = inputCount(x, "predictProba", model);
  const batchSize = options.batchSize ?? 256;
  const fromLogits = options.fromLogits ?? outputsLogits(model);
  const rows: Float32Array[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const indices = range(start, Math.min(n, start + batchSize));
    const inputs = gatherInputs(x, indices, { epoch: 0, training: false });
    const probs = tf.tidy(() => {
      const out = model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
      return fromLogits ? tf.softmax(out) : out;
    });
    const k = probs.shape[probs.shape.length - 1] as number;
    const data = (await probs.data()) as Float32Array;
    for (let i = 0; i < indices.length; i++) rows.push(data.slice(i * k, (i + 1) * k));
    probs.dispose();
    inputs.forEach((t) => t.dispose());
  }
  return rows;
}

/** Loss (with the given label smoothing, no class weights), accuracy, macro-F1 and predictions (async, as predictProba). */
export async function evaluate(
  model: tf.LayersModel,
  x: Inputs,
  y: ArrayLike<number>,
  options: { batchSize?: number; labelSmoothing?: number; focalGamma?: number; fromLogits?: boolean; numClasses?: number; epoch?: number } = {},
): Promise<EvaluationResult> {
  const numClasses = options.numClasses ?? outputUnits(model);
  const labels = checkLabels(y, numClasses, "evaluate");
  const n = inputCount(x, "evaluate", model);
  if (n !== labels.length) throw new Error(`evaluate: ${n} input rows but ${labels.length} labels`);
  const batchSize = options.batchSize ?? 256;
  const fromLogits = options.fromLogits ?? outputsLogits(model);
  const predictions = new Int32Array(n);
  let lossSum = 0;
  for (let start = 0; start < n; start += batchSize) {
    const indices = range(start, Math.min(n, start + batchSize));
    const inputs = gatherInputs(x, indices, { epoch: options.epoch ?? 0, training: false });
    const [lossTotal, argmax] = tf.tidy(() => {
      const out = model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
      const targets = smoothedOneHot(labels.subarray(start, start + indices.length), numClasses, options.labelSmoothing ?? 0);
      return [crossEntropyPerSample(targets, out, fromLogits, options.focalGamma).sum(), out.argMax(-1)];
    });
    lossSum += (await lossTotal.data())[0];
    predictions.set((await argmax.data()) as Int32Array, start);
    tf.dispose([lossTotal, argmax, ...inputs]);
  }
  return {
    loss: n === 0 ? NaN : lossSum / n,
    accuracy: accuracy(labels, predictions),
    f1Macro: f1Macro(labels, predictions),
    predictions,
  };
}

/** n indices drawn with replacement: a class uniformly (among those present), then a sample of it uniformly. */
export function balancedOrder(labels: ArrayLike<number>, numClasses: number, rng: Rng): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const present = byClass.filter((members) => members.length > 0);
  return Array.from({ length: labels.length }, () => {
    const members = present[Math.floor(rng.next() * present.length)];
    return members[Math.floor(rng.next() * members.length)];
  });
}

function range(start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}

/** The fused training step for this model and data, or null where it does not apply (see fused-steps.ts). */
function fusedStepsFor(model: tf.LayersModel, x: Inputs, batchSize: number, fromLogits: boolean, optimizer: TrainOptimizer): FusedSteps | null {
  // The fast path computes on CPU copies of the data and weights: on a GPU backend (WebGPU, tfjs-node-gpu) training
  // stays on the GPU (and a WebGPU tensor cannot be read synchronously in Node).
  if (!["cpu", "wasm"].includes(tf.getBackend())) return null;
  let inputs: Float32Array[] | null = null;
  if (!isBatchSource(x)) {
    const tensors = Array.isArray(x) ? x : [x];
    if (tensors.some((t) => t.dtype !== "float32")) return null;
    inputs = tensors.map((t) => t.dataSync() as Float32Array); // cpu-only read
  }
  const compiled = compileFusedSteps(model, inputs, { maxBatch: batchSize, fromLogits, optimizer });
  return "unsupported" in compiled ? null : compiled;
}

/** A BatchSource's inputs for the fused step (float32 arrays in model input order). */
function batchArrays(source: BatchSource, indices: readonly number[], epoch: number): Float32Array[] {
  const out = source.batch(indices, { epoch, training: true });
  const tensors = Array.isArray(out) ? out : [out];
  const arrays = tensors.map((t) => (t.dtype === "float32" ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync()))); // cpu-only read
  tf.dispose(tensors);
  return arrays;
}

/** Trains `model` in place; returns the per-epoch history. */
export async function fit(model: tf.LayersModel, options: FitOptions): Promise<History> {
  const started = performance.now();
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${options.epochs}`);
  const numClasses = options.numClasses ?? outputUnits(model);
  const labels = checkLabels(options.y, numClasses, "fit (y)");
  const n = inputCount(options.x, "fit (x)", model);
  if (n !== labels.length) throw new Error(`fit: x has ${n} rows but y has ${labels.length} labels`);
  if (n === 0) throw new Error("fit: no training samples");
  let valLabels: Int32Array | null = null;
  if (options.validation) {
    valLabels = checkLabels(options.validation.y, numClasses, "fit (validation.y)");
    const nv = inputCount(options.validation.x, "fit (validation.x)", model);
    if (nv !== valLabels.length) throw new Error(`fit: validation.x has ${nv} rows but validation.y has ${valLabels.length} labels`);
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`fit: batchSize must be a positive integer, got ${batchSize}`);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const given = options.optimizer;
  const ownsOptimizer = !given || !isTrainOptimizer(given);
  const optimizer: TrainOptimizer = given === undefined ? createOptimizer({ name: "adam", lr: 1e-3 }) : isTrainOptimizer(given) ? given : createOptimizer(given as OptimizerSpec);
  const fromLogits = options.loss?.fromLogits ?? outputsLogits(model);
  const labelSmoothing = options.loss?.labelSmoothing ?? 0;
  const classWeights = options.classWeights
    ? computeClassWeights(labels, options.classWeights, range(0, numClasses))
    : null;
  const rng: Rng = createRng(options.seed ?? 0);
  const shuffleRng = rng.fork("shuffle");
  const dropoutRng = rng.fork("dropout");
  let variables = trainableVariables(model);
  if (variables.length === 0) throw new Error(`fit: model ${model.name} has no trainable weights (all frozen?)`);

  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if ((options.verbose ?? 1) === 1) callbacks.push(progressLogger());
  const ctx: TrainingContext = { model, optimizer, epochs: options.epochs, stepsPerEpoch, history: [], stopTraining: false };
  const fused = ownsOptimizer && options.fastPath !== false && !((options.loss?.focalGamma ?? 0) > 0) ? fusedStepsFor(model, options.x, batchSize, fromLogits, optimizer) : null;
  const history: History = { records: ctx.history, interrupted: false, seconds: 0, step: fused ? "fused" : "ops" };
  let failure: unknown;
  try {
    for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const epochStart = performance.now();
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
      // Re-read every epoch so a callback may unfreeze layers for fine-tuning part-way through.
      const previous = variables;
      variables = trainableVariables(model);
      if (variables.length === 0) throw new Error(`fit: model ${model.name} has no trainable weights at epoch ${epoch} (all frozen?)`);
      if (fused) {
        if (variables.length !== previous.length || variables.some((v, i) => v !== previous[i])) {
          throw new Error(`fit: the trainable weights of ${model.name} changed at epoch ${epoch}; pass fastPath: false to train with changing weights`);
        }
        fused.load();
      }
      const order = options.sampling === "balanced" ? balancedOrder(labels, numClasses, shuffleRng) : options.shuffle === false ? range(0, n) : shuffleRng.shuffle(range(0, n));
      const seenLabels: number[] = [];
      const seenPredictions: number[] = [];
      let lossSum = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (options.signal?.aborted) {
          history.interrupted = true;
          break;
        }
        const step = (epoch - 1) * stepsPerEpoch + b;
        for (const cb of callbacks) await cb.onBatchBegin?.(step, ctx);
        const indices = order.slice(b * batchSize, (b + 1) * batchSize);
        const batchLabels = Int32Array.from(indices, (i) => labels[i]);
        if (fused) {
          const targets = smoothedTargets(batchLabels, numClasses, labelSmoothing);
          const weights = classWeights ? Float32Array.from(batchLabels, (l) => classWeights[l]) : null;
          const source = options.x;
          const batch = isBatchSource(source) ? { inputs: batchArrays(source, indices, epoch), size: indices.length } : { rows: indices };
          const result = fused.step(batch, targets, weights, dropoutRng);
          lossSum += result.loss * indices.length;
          for (let i = 0; i < indices.length; i++) {
            seenLabels.push(batchLabels[i]);
            seenPredictions.push(result.predicted[i]);
          }
          continue;
        }
        const inputs = gatherInputs(options.x, indices, { epoch, training: true });
        const [lossValue, argmax] = withSeed(dropoutRng, () =>
          tf.tidy(() => {
            const targets = smoothedOneHot(batchLabels, numClasses, labelSmoothing);
            const weights = classWeights ? tf.tensor1d(Float32Array.from(batchLabels, (l) => classWeights[l])) : undefined;
            let kept: tf.Tensor | undefined;
            const { value, grads } = tf.variableGrads(() => {
              const out = model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: true }) as tf.Tensor;
              kept = tf.keep(out.argMax(-1));
              let loss: tf.Scalar = categoricalCrossEntropy(targets, out, { fromLogits, sampleWeights: weights, focalGamma: options.loss?.focalGamma });
              const regularization = model.calculateLosses();
              if (regularization.length > 0) loss = loss.add(tf.addN(regularization)) as tf.Scalar;
              return loss;
            }, variables);
            optimizer.step(
              variables,
              variables.map((v) => grads[v.name]),
            );
            return [value, kept as tf.Tensor];
          }),
        );
        tf.dispose(inputs);
        lossSum += (await lossValue.data())[0] * indices.length;
        const predicted = await argmax.data();
        for (let i = 0; i < indices.length; i++) {
          seenLabels.push(batchLabels[i]);
          seenPredictions.push(predicted[i]);
        }
        tf.dispose([lossValue, argmax]);
      }
      fused?.store();
      if (history.interrupted && seenLabels.length === 0) break;
      let val: EvaluationResult | null = null;
      if (options.validation && valLabels) {
        val = await evaluate(model, options.validation.x, valLabels, { batchSize: Math.max(batchSize, 256), labelSmoothing, focalGamma: options.loss?.focalGamma, fromLogits, numClasses, epoch });
      }
      const record: EpochRecord = {
        epoch,
        trainLoss: lossSum / seenLabels.length,
        trainAcc: accuracy(seenLabels, seenPredictions),
        trainF1Macro: f1Macro(seenLabels, seenPredictions),
        valLoss: val ? val.loss : null,
        valAcc: val ? val.accuracy : null,
        valF1Macro: val ? val.f1Macro : null,
        lr: optimizer.lr,
        seconds: (performance.now() - epochStart) / 1000,
      };
      ctx.history.push(record);
      for (const cb of callbacks) await cb.onEpochEnd?.(record, ctx);
      await options.onEpoch?.(record);
      if (ctx.stopTraining || history.interrupted) break;
    }
  } catch (error) {
    failure = error;
  }
  if (history.interrupted && !failure) ctx.stopReason = ctx.stopReason ?? `interrupted after ${ctx.history.length} epochs`;
  for (const cb of callbacks) {
    try {
      await cb.onTrainEnd?.(ctx, failure);
    } catch (error) {
      failure = failure ?? error;
    }
  }
  if (ownsOptimizer) optimizer.dispose();
  history.stopReason = ctx.stopReason;
  history.seconds = (performance.now() - started) / 1000;
  if (failure) throw failure;
  return history;
}
