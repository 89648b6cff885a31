/**
 * Training steps without per-op overhead: the fit loop's fast path for small dense and convolutional networks.
 *
 * The fusion networks (Dense → BatchNorm → ReLU → Dropout blocks, Concatenate, a softmax head) are tiny: a batch
 * of 32 is about a million multiply-adds, so with TensorFlow.js ops a step is dominated by dispatching ~400 small
 * ops (forward, tape, gradients, one optimiser update per variable) rather than by arithmetic. Small CNNs pay the
 * same dispatch (~240 kernels a step) on top of convolutions that WebAssembly runs at a third of the CPU's speed.
 * Here the whole step — forward in training mode, backward, the optimiser update — runs as loops over
 * Float32Arrays: matrix products of dense layers in WebAssembly SIMD (lib/util/gemm), convolutions, pooling and
 * the batch norms of images in the native kernels of lib/engine/native (compiled on first use; without them a
 * network with convolutions keeps the op-based step). Weights, BatchNorm moving statistics and optimiser moments
 * are kept outside tfjs during an epoch and written back to the model's variables at its end (before validation
 * and callbacks see the model).
 *
 * The arithmetic is the same as the TensorFlow.js path (fit.ts' generic step), operation for operation:
 * - dropout masks are drawn exactly as tf.dropout draws them (one `Math.random()` per Dropout layer, in
 *   tfjs-layers' execution order, seeding tf.randomUniform), so the same seed drops the same units;
 * - BatchNorm uses the batch's mean and biased variance, moving averages updated as tfjs-layers does
 *   (m ← m − (m − μ)·(1 − momentum)), and its full gradient (through μ and σ², as autodiff of tf.moments gives);
 * - the loss is lib/train's categorical cross-entropy (label smoothing, sample weights, probabilities normalised and
 *   clipped to [1e-7, 1 − 1e-7], or log-softmax of logits) with the gradient of that exact chain;
 * - the optimisers (Adam, AdamW, SGD) repeat optimizers.ts' float32 operation sequence (Math.fround per op).
 * Matrix products and convolutions sum in another order than XNNPACK (and with fused multiply-adds natively), and
 * batch statistics accumulate in float64, so results agree with the op-based path to float32 rounding per step
 * (tested), not bit for bit.
 *
 * Supported layers: InputLayer; Dense (linear / relu; softmax as the last layer) on [batch, features];
 * BatchNormalization over the last axis; Activation (linear / relu / sigmoid; softmax last); Dropout; Concatenate
 * (last axis of [batch, features]); Multiply and Add (element-wise, as the gated fusion uses them); and with the
 * native kernels Conv2D (channels last, linear / relu, any kernel size and stride, same / valid padding),
 * MaxPooling2D, GlobalAveragePooling2D and Flatten; nested models (a backbone applied as a layer) made of these,
 * inlined. No regularisers or constraints; one output; every weight trainable. Anything else: `compileFusedSteps`
 * returns the reason and fit uses the op-based step.
 */
import * as tf from "@tensorflow/tfjs";
import { gemmArrays } from "../util/gemm";
import type { Rng } from "../util/random";
import { trainKernels, type TrainKernels } from "../engine/native";
import type { OptimizerSpec, TrainOptimizer } from "./optimizers";

const f = Math.fround;
/**
 * The step keeps every activation and its gradient for a whole batch in one WebAssembly memory (at most 4 GiB):
 * a network that needs more (ResNet-50 at 224 px in batches of 32) trains with the op-based step.
 */
const MEMORY_LIMIT_BYTES = 3 * 2 ** 30;
const EPSILON = 1e-7;

/** A weight as the layer holds it (tfjs-layers' LayerVariable). */
interface LayerWeight {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
  readonly shape: number[];
  readonly trainable: boolean;
}

interface Param {
  weight: LayerWeight;
  value: Float32Array;
  grad: Float32Array;
  /** Optimiser moments (Adam: m, v; SGD with momentum: velocity). */
  m: Float32Array;
  v: Float32Array;
  /** Rank ≥ 2: decayed by AdamW (optimizers.ts' rule). */
  kernel: boolean;
}

interface Slot {
  /** Row-major [rows, ...shape] (NHWC for images); sized for the largest batch. */
  data: Float32Array;
  /** One row's shape: [features] or [height, width, channels]. */
  shape: number[];
  /** Values per row (the product of shape). */
  width: number;
}

type Op =
  | { kind: "dense"; input: number; output: number; kernel: Param; bias: Param | null; relu: boolean }
  | { kind: "batchnorm"; input: number; output: number; gamma: Param | null; beta: Param | null; movingMean: Param; movingVariance: Param; epsilon: number; momentum: number; xhat: Float32Array; invStd: Float64Array; channels: number; pixels: number }
  | { kind: "relu"; input: number; output: number }
  | { kind: "conv"; input: number; output: number; kernel: Param; bias: Param | null; dims: Int32Array }
  | { kind: "maxpool"; input: number; output: number; dims: Int32Array; argmax: Int32Array }
  | { kind: "gap"; input: number; output: number; pixels: number; channels: number }
  | { kind: "dropout"; input: number; output: number; rate: number; multiplier: Float32Array }
  | { kind: "concat"; inputs: number[]; output: number }
  | { kind: "sigmoid"; input: number; output: number }
  | { kind: "multiply"; inputs: number[]; output: number }
  | { kind: "add"; inputs: number[]; output: number };

interface SymbolicLike {
  name: string;
  inputs: SymbolicLike[];
  sourceLayer: tf.layers.Layer;
  shape: Array<number | null>;
}

export interface FusedStepResult {
  /** Mean loss of the batch (sample weights applied, as the op-based step). */
  loss: number;
  /** argmax of the model's output per row. */
  predicted: Int32Array;
}

/** A step's batch: rows of the inputs given to compileFusedSteps, or the batch's own inputs (a BatchSource's). */
export type FusedBatch = { rows: readonly number[] } | { inputs: readonly Float32Array[]; size: number };

export interface FusedSteps {
  /** Copy the model's weights (and moving statistics) into the step's arrays: call before training resumes. */
  load(): void;
  /** Write the step's weights back into the model's variables. */
  store(): void;
  /** One training step on a batch. */
  step(batch: FusedBatch, targets: Float32Array, sampleWeights: Float32Array | null, dropoutRng: Rng): FusedStepResult;
  readonly parameterCount: number;
  /** Whether the step runs native kernels (a network with convolutions). */
  readonly native: boolean;
}

/**
 * tfjs-layers' execution order of a functional model (executor.ts' depth-first topological sort from the output,
 * pushing each tensor's inputs in order and visiting the last pushed first): the order in which Dropout layers
 * draw their seeds.
 */
function executionOrder(output: SymbolicLike, feeds: Set<string>): SymbolicLike[] {
  const visited = new Set<string>(feeds);
  const sorted: SymbolicLike[] = [];
  const stack: SymbolicLike[] = [output];
  const marks: number[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (visited.has(top.name)) {
      stack.pop();
      continue;
    }
    const marked = marks[marks.length - 1] === stack.length - 1;
    if (top.inputs.length === 0 || marked) {
      stack.pop();
      sorted.push(top);
      visited.add(top.name);
      if (marked) marks.pop();
    } else {
      marks.push(stack.length - 1);
      for (const input of top.inputs) if (!visited.has(input.name)) stack.push(input);
    }
  }
  return sorted;
}

function configOf(layer: tf.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/** Why the layer cannot run on the fast path, or null when it can. */
function unsupported(layer: tf.layers.Layer): string | null {
  const config = configOf(layer);
  for (const key of ["kernelRegularizer", "biasRegularizer", "activityRegularizer", "betaRegularizer", "gammaRegularizer", "kernelConstraint", "biasConstraint", "betaConstraint", "gammaConstraint"]) {
    if (config[key] != null) return `${layer.name}: ${key}`;
  }
  if (!layer.trainable) return `${layer.name} is frozen`;
  return null;
}

function makeParam(weight: LayerWeight): Param {
  const size = weight.shape.reduce((a, b) => a * b, 1);
  return { weight, value: new Float32Array(size), grad: new Float32Array(size), m: new Float32Array(size), v: new Float32Array(size), kernel: weight.shape.length >= 2 };
}

/** A Conv2D / pooling window's leading padding (tfjs' "same": half the total, the extra one at the end). */
function leadingPad(padding: string, input: number, output: number, stride: number, window: number, dilation: number): number {
  if (padding === "valid") return 0;
  return Math.floor(Math.max((output - 1) * stride + (window - 1) * dilation + 1 - input, 0) / 2);
}

function pair(value: unknown, fallback: number): [number, number] {
  if (value == null) return [fallback, fallback];
  return Array.isArray(value) ? [value[0] as number, (value[1] ?? value[0]) as number] : [value as number, value as number];
}

/**
 * The fast training step for `model`, or the reason it does not apply. `inputs` (one Float32Array per model input,
 * row-major) are what `{ rows }` batches index; null when every batch brings its own inputs.
 */
export function compileFusedSteps(
  model: tf.LayersModel,
  inputs: readonly Float32Array[] | null,
  options: { maxBatch: number; fromLogits: boolean; optimizer: TrainOptimizer },
): FusedSteps | { unsupported: string } {
  if (model.outputs.length !== 1) return { unsupported: "more than one output" };
  if (!["adam", "adamw", "sgd"].includes(options.optimizer.spec.name)) return { unsupported: `optimizer ${options.optimizer.spec.name}` };
  const feeds = new Set(model.inputs.map((t) => t.name));
  const order = executionOrder(model.outputs[0] as unknown as SymbolicLike, feeds);
  const batch = options.maxBatch;
  const tensors: Slot[] = [];
  const slot = new Map<string, number>();
  /** One row's shape, or null when some dimension is unknown. */
  const rowShape = (t: SymbolicLike): number[] | null => {
    const shape = t.shape.slice(1);
    return shape.every((d): d is number => typeof d === "number") ? shape : null;
  };
  const newTensor = (shape: number[]): number => {
    const width = shape.reduce((a, b) => a * b, 1);
    tensors.push({ data: new Float32Array(0), shape, width }); // placed in the gemm module's memory below
    return tensors.length - 1;
  };
  let native: TrainKernels | null = null;
  const needNative = (layer: string): string | null => {
    native = native ?? trainKernels();
    return native ? null : `${layer} needs the native kernels (lib/engine/native: no C compiler, or POI_NATIVE=0)`;
  };
  const modelInputs: number[] = [];
  for (let i = 0; i < model.inputs.length; i++) {
    const t = model.inputs[i] as unknown as SymbolicLike;
    const shape = rowShape(t);
    if (!shape || (shape.length !== 1 && shape.length !== 3)) return { unsupported: `input ${t.name} is not [batch, features] or [batch, height, width, channels]` };
    const id = newTensor(shape);
    slot.set(t.name, id);
    modelInputs.push(id);
    if (inputs && inputs[i].length % tensors[id].width !== 0) return { unsupported: `input ${i} size` };
  }
  const ops: Op[] = [];
  const params: Param[] = [];
  // Set inside visit (a closure), so typed wide: TypeScript would narrow a plain initialiser to "linear".
  let finalActivation = "linear" as "linear" | "softmax";
  const outputName = (model.outputs[0] as unknown as SymbolicLike).name;
  /**
   * Adds the ops of `order` (a graph's tensors in tfjs-layers' execution order; `feeds` already have slots), or says
   * why it cannot; `graphOutput` names the model's output within this graph ("" for none). A nested model (a
   * backbone applied as a layer) is inlined where tfjs-layers would run it.
   */
  const visit = (order: SymbolicLike[], feeds: Set<string>, graphOutput: string): string | null => {
    for (const t of order) {
      if (feeds.has(t.name)) continue;
      const layer = t.sourceLayer;
      const className = layer.getClassName();
      if (className === "InputLayer") continue;
      const nested = layer as unknown as Partial<tf.LayersModel>;
      if (Array.isArray(nested.layers) && Array.isArray(nested.inputs) && Array.isArray(nested.outputs)) {
        const innerInputs = nested.inputs as unknown as SymbolicLike[];
        const innerOutputs = nested.outputs as unknown as SymbolicLike[];
        if (innerOutputs.length !== 1 || innerInputs.length !== t.inputs.length) return `${layer.name}: a nested model with several outputs or other inputs`;
        if (t.inputs.some((i) => !slot.has(i.name))) return `${layer.name}: input not computed`;
        innerInputs.forEach((inner, i) => slot.set(inner.name, slot.get(t.inputs[i].name) as number));
        const innerFeeds = new Set(innerInputs.map((i) => i.name));
        const reason = visit(executionOrder(innerOutputs[0], innerFeeds), innerFeeds, t.name === graphOutput ? innerOutputs[0].name : "");
        if (reason) return reason;
        const innerSlot = slot.get(innerOutputs[0].name);
        if (innerSlot === undefined) return `${layer.name}: output not computed`;
        slot.set(t.name, innerSlot);
        continue;
      }
      const reason = unsupported(layer);
      if (reason) return reason;
      const shape = rowShape(t);
      if (!shape || (shape.length !== 1 && shape.length !== 3)) return `${layer.name}: output is not [batch, features] or [batch, height, width, channels]`;
      if (t.inputs.some((i) => !slot.has(i.name))) return `${layer.name}: input not computed`;
      const config = configOf(layer);
      const isOutput = t.name === graphOutput;
      const inputIds = t.inputs.map((i) => slot.get(i.name) as number);
      // The layer's view of its input (a Flatten's output shares its input's array and reads as [features]).
      const inputShape = rowShape(t.inputs[0]) ?? tensors[inputIds[0]].shape;
      const spatial = inputShape.length === 3;
      let activation = (config.activation as string | undefined) ?? "linear";
      if (className === "Dense" || className === "Activation" || className === "Conv2D") {
        if (activation === "softmax" && isOutput && shape.length === 1) {
          finalActivation = "softmax";
          activation = "linear";
        }
        const allowed = className === "Activation" ? ["linear", "relu", "sigmoid"] : ["linear", "relu"];
        if (!allowed.includes(activation)) return `${layer.name}: activation ${activation}`;
      }
      if (spatial || shape.length === 3) {
        const missing = needNative(layer.name);
        if (missing) return missing;
        if (config.dataFormat != null && config.dataFormat !== "channelsLast") return `${layer.name}: ${String(config.dataFormat)}`;
      }
      const weights = layer.weights as unknown as LayerWeight[];
      if (className === "Dense") {
        if (t.inputs.length !== 1 || spatial) return `${layer.name}: a Dense layer needs one [batch, features] input`;
        const kernel = makeParam(weights[0]);
        const bias = config.useBias ? makeParam(weights[1]) : null;
        params.push(kernel, ...(bias ? [bias] : []));
        const output = newTensor(shape);
        ops.push({ kind: "dense", input: inputIds[0], output, kernel, bias, relu: activation === "relu" });
        slot.set(t.name, output);
      } else if (className === "Conv2D") {
        if (!spatial || shape.length !== 3) return `${layer.name}: input or output not [batch, height, width, channels]`;
        const [kh, kw] = pair(config.kernelSize, 1);
        const [sh, sw] = pair(config.strides, 1);
        const [dh, dw] = pair(config.dilationRate, 1);
        // tfjs has no gradient for dilated convolutions, so the op-based step (the reference) cannot train them either.
        if (dh !== 1 || dw !== 1) return `${layer.name}: dilation ${dh}×${dw}`;
        const padding = config.padding as string;
        if (padding !== "same" && padding !== "valid") return `${layer.name}: padding ${padding}`;
        const [h, w, cin] = inputShape;
        const [oh, ow, cout] = shape;
        const kernel = makeParam(weights[0]);
        const bias = config.useBias ? makeParam(weights[1]) : null;
        params.push(kernel, ...(bias ? [bias] : []));
        const output = newTensor(shape);
        const dims = Int32Array.from([0, h, w, cin, oh, ow, cout, kh, kw, sh, sw, leadingPad(padding, h, oh, sh, kh, dh), leadingPad(padding, w, ow, sw, kw, dw), dh, dw, activation === "relu" ? 1 : 0]);
        ops.push({ kind: "conv", input: inputIds[0], output, kernel, bias, dims });
        slot.set(t.name, output);
      } else if (className === "MaxPooling2D") {
        if (!spatial || shape.length !== 3) return `${layer.name}: input or output not [batch, height, width, channels]`;
        const [ph, pw] = pair(config.poolSize, 2);
        const [sh, sw] = pair(config.strides ?? config.poolSize, 2);
        const padding = config.padding as string;
        if (padding !== "same" && padding !== "valid") return `${layer.name}: padding ${padding}`;
        const [h, w, c] = inputShape;
        const [oh, ow] = shape;
        const output = newTensor(shape);
        const dims = Int32Array.from([0, h, w, c, oh, ow, ph, pw, sh, sw, leadingPad(padding, h, oh, sh, ph, 1), leadingPad(padding, w, ow, sw, pw, 1)]);
        ops.push({ kind: "maxpool", input: inputIds[0], output, dims, argmax: new Int32Array(0) });
        slot.set(t.name, output);
      } else if (className === "GlobalAveragePooling2D") {
        if (!spatial) return `${layer.name}: input not [batch, height, width, channels]`;
        const output = newTensor([inputShape[2]]);
        ops.push({ kind: "gap", input: inputIds[0], output, pixels: inputShape[0] * inputShape[1], channels: inputShape[2] });
        slot.set(t.name, output);
      } else if (className === "Flatten") {
        // Row-major NHWC rows are already flat: the flattened tensor is the same array.
        slot.set(t.name, inputIds[0]);
      } else if (className === "Activation") {
        if (activation === "relu" || activation === "sigmoid") {
          const output = newTensor(shape);
          ops.push({ kind: activation, input: inputIds[0], output });
          slot.set(t.name, output);
        } else slot.set(t.name, inputIds[0]);
      } else if (className === "BatchNormalization") {
        const axis = config.axis as number | number[];
        const last = inputShape.length;
        const axes = Array.isArray(axis) ? axis : [axis];
        if (!(axes.length === 1 && (axes[0] === -1 || axes[0] === last))) return `${layer.name}: axis ${String(axis)}`;
        let w = 0;
        const gamma = config.scale ? makeParam(weights[w++]) : null;
        const beta = config.center ? makeParam(weights[w++]) : null;
        const movingMean = makeParam(weights[w++]);
        const movingVariance = makeParam(weights[w++]);
        params.push(...[gamma, beta].filter((p): p is Param => p !== null));
        const output = newTensor(shape);
        const channels = shape[shape.length - 1];
        ops.push({
          kind: "batchnorm",
          input: inputIds[0],
          output,
          gamma,
          beta,
          movingMean,
          movingVariance,
          epsilon: config.epsilon as number,
          momentum: config.momentum as number,
          xhat: new Float32Array(0),
          invStd: new Float64Array(channels),
          channels,
          pixels: tensors[output].width / channels,
        });
        slot.set(t.name, output);
      } else if (className === "Dropout") {
        const rate = config.rate as number;
        if (config.noiseShape != null || config.seed != null) return `${layer.name}: noiseShape/seed`;
        if (rate > 0 && rate < 1) {
          const output = newTensor(shape);
          ops.push({ kind: "dropout", input: inputIds[0], output, rate, multiplier: new Float32Array(0) });
          slot.set(t.name, output);
        } else if (rate === 0) slot.set(t.name, inputIds[0]);
        else return `${layer.name}: rate ${rate}`;
      } else if (className === "Concatenate") {
        const axis = config.axis as number;
        if (axis !== -1 && axis !== 1) return `${layer.name}: axis ${axis}`;
        if (shape.length !== 1 || t.inputs.some((i) => rowShape(i)?.length !== 1)) return `${layer.name}: concatenates images`;
        const output = newTensor(shape);
        ops.push({ kind: "concat", inputs: inputIds, output });
        slot.set(t.name, output);
      } else if (className === "Multiply" || className === "Add") {
        const width = shape.reduce((a, b) => a * b, 1);
        if (inputIds.some((id) => tensors[id].width !== width)) return `${layer.name}: inputs of other widths (broadcasting)`;
        const output = newTensor(shape);
        ops.push({ kind: className === "Multiply" ? "multiply" : "add", inputs: inputIds, output });
        slot.set(t.name, output);
      } else return `layer ${layer.name} (${className})`;
    }
    return null;
  };
  const outerReason = visit(order, feeds, outputName);
  if (outerReason) return { unsupported: outerReason };
  const outputSlot = slot.get(outputName);
  if (outputSlot === undefined) return { unsupported: "output not computed" };
  const fromLogits = options.fromLogits;
  if (fromLogits === (finalActivation === "softmax")) return { unsupported: "loss/output activation mismatch" };
  const trainable = new Set(model.trainableWeights as unknown as LayerWeight[]);
  for (const p of params) if (!trainable.has(p.weight)) return { unsupported: "a frozen weight" };
  if (trainable.size !== params.length) return { unsupported: "trainable weights outside the supported layers" };

  // Matrix products run in WebAssembly SIMD (lib/util/gemm) on arrays in its memory: every tensor, its
  // gradient, the dense kernels and their gradients, and a scratch for a transposed kernel.
  // The model inputs' gradients are never computed: no room for them.
  const isInput = new Set(modelInputs);
  const dense = ops.filter((op): op is Extract<Op, { kind: "dense" }> => op.kind === "dense");
  const largestKernel = Math.max(0, ...dense.map((op) => op.kernel.value.length));
  // Per-op batch arrays (batch norm's xhat, max pooling's argmax, dropout's mask) are sized by their output.
  const perOp = (op: Op): number => (op.kind === "batchnorm" || op.kind === "maxpool" || op.kind === "dropout" ? batch * tensors[op.output].width : 0);
  const floats = tensors.reduce((sum, t, id) => sum + batch * t.width * (isInput.has(id) ? 1 : 2), 0) + ops.reduce((sum, op) => sum + perOp(op), 0);
  if (floats * 4 > MEMORY_LIMIT_BYTES) {
    return { unsupported: `activations and gradients of ${((floats * 4) / 2 ** 30).toFixed(1)} GiB for batches of ${batch}, over the fused step's ${MEMORY_LIMIT_BYTES / 2 ** 30} GiB` };
  }
  for (const op of ops) {
    if (op.kind === "batchnorm") op.xhat = new Float32Array(perOp(op));
    else if (op.kind === "maxpool") op.argmax = new Int32Array(perOp(op));
    else if (op.kind === "dropout") op.multiplier = new Float32Array(perOp(op));
  }
  const gemm = gemmArrays([
    ...tensors.map((t) => batch * t.width),
    ...tensors.map((t, id) => (isInput.has(id) ? 0 : batch * t.width)),
    ...dense.flatMap((op) => [op.kernel.value.length, op.kernel.value.length]),
    largestKernel,
  ]);
  const arrays = gemm.arrays.slice();
  for (const t of tensors) t.data = arrays.shift()!;
  const grads = tensors.map(() => arrays.shift()!);
  for (const op of dense) {
    op.kernel.value = arrays.shift()!;
    op.kernel.grad = arrays.shift()!;
  }
  const transposedKernel = arrays.shift()!;
  const kernels = native as TrainKernels | null;
  /** Whether a slot holds images (computed by the native kernels). */
  const isImage = (id: number): boolean => tensors[id].shape.length === 3;
  const classes = tensors[outputSlot].width;
  const probabilities = new Float64Array(batch * classes);
  const optimizer = options.optimizer;
  const allWeights: Param[] = [...params];
  for (const op of ops) if (op.kind === "batchnorm") allWeights.push(op.movingMean, op.movingVariance);

  function denseForward(op: Extract<Op, { kind: "dense" }>, n: number): void {
    const k = tensors[op.input].width;
    const u = tensors[op.output].width;
    const y = tensors[op.output].data;
    if (op.bias) for (let r = 0; r < n; r++) y.set(op.bias.value, r * u);
    gemm.multiply(tensors[op.input].data, op.kernel.value, y, n, u, k, { accumulate: op.bias !== null });
    if (op.relu) for (let e = 0; e < n * u; e++) if (!(y[e] > 0)) y[e] = 0;
  }

  /** dW = xᵀ·dy, db = Σ dy and (unless x is a model input) dx += dy·Wᵀ. */
  function denseBackward(op: Extract<Op, { kind: "dense" }>, n: number): void {
    const k = tensors[op.input].width;
    const u = tensors[op.output].width;
    const y = tensors[op.output].data;
    const dy = grads[op.output];
    if (op.relu) for (let e = 0; e < n * u; e++) if (!(y[e] > 0)) dy[e] = 0;
    gemm.multiply(tensors[op.input].data, dy, op.kernel.grad, k, u, n, { transposeA: true });
    if (op.bias) {
      const db = op.bias.grad;
      for (let j = 0; j < u; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += dy[r * u + j];
        db[j] = s;
      }
    }
    if (isInput.has(op.input)) return;
    const w = op.kernel.value;
    const wT = transposedKernel;
    for (let i = 0; i < k; i++) for (let j = 0; j < u; j++) wT[j * k + i] = w[i * u + j];
    gemm.multiply(dy, wT, grads[op.input], n, k, u, { accumulate: true });
  }

  function batchNormForward(op: Extract<Op, { kind: "batchnorm" }>, n: number): void {
    const x = tensors[op.input];
    const y = tensors[op.output];
    const c = x.width;
    const decay = f(1 - op.momentum);
    const mm = op.movingMean.value;
    const mv = op.movingVariance.value;
    for (let j = 0; j < c; j++) {
      let sum = 0;
      for (let r = 0; r < n; r++) sum += x.data[r * c + j];
      const mean = f(sum / n);
      let sq = 0;
      for (let r = 0; r < n; r++) {
        const d = f(x.data[r * c + j] - mean);
        sq += f(d * d);
      }
      const variance = f(sq / n);
      const invStd = 1 / Math.sqrt(variance + op.epsilon);
      op.invStd[j] = invStd;
      const g = op.gamma ? op.gamma.value[j] : 1;
      const b = op.beta ? op.beta.value[j] : 0;
      for (let r = 0; r < n; r++) {
        const e = r * c + j;
        const xhat = (x.data[e] - mean) * invStd;
        op.xhat[e] = xhat;
        y.data[e] = g * xhat + b;
      }
      // tfjs-layers: value ← value − (value − batch statistic)·(1 − momentum), in float32.
      mm[j] = f(mm[j] - f(f(mm[j] - mean) * decay));
      mv[j] = f(mv[j] - f(f(mv[j] - variance) * decay));
    }
  }

  function batchNormBackward(op: Extract<Op, { kind: "batchnorm" }>, n: number): void {
    const c = tensors[op.input].width;
    const dy = grads[op.output];
    const dx = isInput.has(op.input) ? null : grads[op.input];
    for (let j = 0; j < c; j++) {
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let r = 0; r < n; r++) {
        const e = r * c + j;
        sumDy += dy[e];
        sumDyXhat += dy[e] * op.xhat[e];
      }
      if (op.gamma) op.gamma.grad[j] = sumDyXhat;
      if (op.beta) op.beta.grad[j] = sumDy;
      if (!dx) continue;
      const scale = ((op.gamma ? op.gamma.value[j] : 1) * op.invStd[j]) / n;
      for (let r = 0; r < n; r++) {
        const e = r * c + j;
        dx[e] += scale * (n * dy[e] - sumDy - op.xhat[e] * sumDyXhat);
      }
    }
  }

  function forward(n: number, dropoutRng: Rng): void {
    for (const op of ops) {
      if (op.kind === "dense") denseForward(op, n);
      else if (op.kind === "conv") {
        op.dims[0] = n;
        kernels!.conv2dForward(tensors[op.input].data, op.kernel.value, op.bias ? op.bias.value : null, tensors[op.output].data, op.dims);
      } else if (op.kind === "maxpool") {
        op.dims[0] = n;
        kernels!.maxPoolForward(tensors[op.input].data, tensors[op.output].data, op.argmax, op.dims);
      } else if (op.kind === "gap") kernels!.globalAvgPoolForward(tensors[op.input].data, tensors[op.output].data, n, op.pixels, op.channels);
      else if (op.kind === "batchnorm") {
        if (op.pixels > 1) {
          const { gamma, beta } = op;
          kernels!.batchNormForward(tensors[op.input].data, tensors[op.output].data, op.xhat, op.invStd, gamma ? gamma.value : null, beta ? beta.value : null, op.movingMean.value, op.movingVariance.value, n * op.pixels, op.channels, op.epsilon, op.momentum);
        } else batchNormForward(op, n);
      } else if (op.kind === "relu") {
        const x = tensors[op.input].data;
        const y = tensors[op.output].data;
        if (isImage(op.input)) kernels!.reluForward(x, y, n * tensors[op.input].width);
        else for (let e = 0; e < n * tensors[op.input].width; e++) y[e] = x[e] > 0 ? x[e] : 0;
      } else if (op.kind === "dropout") {
        const width = tensors[op.input].width;
        const size = n * width;
        // tf.dropout: multiplier = floor(u + keep) / keep with u ~ U[0, 1) from tf.randomUniform seeded by
        // Math.random() (replaced by the fit's dropout generator while the op-based step runs).
        const keep = 1 - op.rate;
        const keep32 = f(keep);
        const noise = tf.randomUniform([n, width], 0, 1, "float32", dropoutRng.next());
        const uniform = noise.dataSync() as Float32Array;
        noise.dispose();
        const x = tensors[op.input].data;
        const y = tensors[op.output].data;
        for (let e = 0; e < size; e++) {
          const m = f(Math.floor(f(uniform[e] + keep32)) / keep32);
          op.multiplier[e] = m;
          y[e] = f(x[e] * m);
        }
      } else if (op.kind === "sigmoid") {
        const x = tensors[op.input].data;
        const y = tensors[op.output].data;
        for (let e = 0; e < n * tensors[op.input].width; e++) y[e] = f(1 / (1 + Math.exp(-x[e])));
      } else if (op.kind === "multiply" || op.kind === "add") {
        // tfjs-layers' Multiply / Add: the first input, then each further one applied in order, in float32.
        const y = tensors[op.output].data;
        const size = n * tensors[op.output].width;
        y.set(tensors[op.inputs[0]].data.subarray(0, size));
        for (let i = 1; i < op.inputs.length; i++) {
          const x = tensors[op.inputs[i]].data;
          if (op.kind === "multiply") for (let e = 0; e < size; e++) y[e] = f(y[e] * x[e]);
          else for (let e = 0; e < size; e++) y[e] = f(y[e] + x[e]);
        }
      } else {
        const y = tensors[op.output];
        let offset = 0;
        for (const id of op.inputs) {
          const x = tensors[id];
          for (let r = 0; r < n; r++) y.data.set(x.data.subarray(r * x.width, (r + 1) * x.width), r * y.width + offset);
          offset += x.width;
        }
      }
    }
  }

  function backward(n: number): void {
    for (let o = ops.length - 1; o >= 0; o--) {
      const op = ops[o];
      const dx = "input" in op && !isInput.has(op.input) ? grads[op.input] : null;
      if (op.kind === "dense") denseBackward(op, n);
      else if (op.kind === "conv") {
        op.dims[0] = n;
        kernels!.conv2dBackward(tensors[op.input].data, op.kernel.value, tensors[op.output].data, grads[op.output], op.kernel.grad, op.bias ? op.bias.grad : null, dx, op.dims);
      } else if (op.kind === "maxpool") {
        op.dims[0] = n;
        if (dx) kernels!.maxPoolBackward(grads[op.output], op.argmax, dx, op.dims);
      } else if (op.kind === "gap") {
        if (dx) kernels!.globalAvgPoolBackward(grads[op.output], dx, n, op.pixels, op.channels);
      } else if (op.kind === "batchnorm") {
        if (op.pixels > 1) {
          const { gamma, beta } = op;
          kernels!.batchNormBackward(grads[op.output], op.xhat, op.invStd, gamma ? gamma.value : null, gamma ? gamma.grad : null, beta ? beta.grad : null, dx, n * op.pixels, op.channels);
        } else batchNormBackward(op, n);
      } else if (op.kind === "relu") {
        if (!dx) continue;
        const x = tensors[op.input].data;
        const dy = grads[op.output];
        if (isImage(op.input)) kernels!.reluBackward(x, dy, dx, n * tensors[op.input].width);
        else for (let e = 0; e < n * tensors[op.input].width; e++) if (x[e] > 0) dx[e] += dy[e];
      } else if (op.kind === "dropout") {
        if (isInput.has(op.input)) continue;
        const dy = grads[op.output];
        const dx = grads[op.input];
        for (let e = 0; e < n * tensors[op.input].width; e++) dx[e] += dy[e] * op.multiplier[e];
      } else if (op.kind === "sigmoid") {
        if (isInput.has(op.input)) continue;
        const y = tensors[op.output].data;
        const dy = grads[op.output];
        const dx = grads[op.input];
        for (let e = 0; e < n * tensors[op.input].width; e++) dx[e] += dy[e] * y[e] * (1 - y[e]);
      } else if (op.kind === "add") {
        const dy = grads[op.output];
        const size = n * tensors[op.output].width;
        for (const id of op.inputs) {
          if (isInput.has(id)) continue;
          const dx = grads[id];
          for (let e = 0; e < size; e++) dx[e] += dy[e];
        }
      } else if (op.kind === "multiply") {
        // d/dx_i of Π x_k: dy times the product of the other inputs.
        const dy = grads[op.output];
        const size = n * tensors[op.output].width;
        op.inputs.forEach((id, i) => {
          if (isInput.has(id)) return;
          const dx = grads[id];
          const others = op.inputs.filter((_, k) => k !== i).map((other) => tensors[other].data);
          for (let e = 0; e < size; e++) {
            let product = dy[e];
            for (const x of others) product *= x[e];
            dx[e] += product;
          }
        });
      } else {
        const y = tensors[op.output];
        const dy = grads[op.output];
        let offset = 0;
        for (const id of op.inputs) {
          const w = tensors[id].width;
          if (!isInput.has(id)) {
            const dx = grads[id];
            for (let r = 0; r < n; r++) for (let j = 0; j < w; j++) dx[r * w + j] += dy[r * y.width + offset + j];
          }
          offset += w;
        }
      }
    }
  }

  /**
   * Loss of lib/train/losses.ts and its gradient with respect to the last layer's pre-activation (logits), into
   * grads[outputSlot]. Returns the mean weighted loss.
   */
  function lossAndGradient(n: number, targets: Float32Array, sampleWeights: Float32Array | null, predicted: Int32Array): number {
    const z = tensors[outputSlot as number].data;
    const dz = grads[outputSlot as number];
    let total = 0;
    for (let r = 0; r < n; r++) {
      const base = r * classes;
      let max = -Infinity;
      let best = 0;
      for (let k = 0; k < classes; k++) {
        if (z[base + k] > max) {
          max = z[base + k];
          best = k;
        }
      }
      predicted[r] = best;
      let sumExp = 0;
      for (let k = 0; k < classes; k++) {
        const e = Math.exp(z[base + k] - max);
        probabilities[base + k] = e;
        sumExp += e;
      }
      for (let k = 0; k < classes; k++) probabilities[base + k] /= sumExp;
      const weight = (sampleWeights ? sampleWeights[r] : 1) / n;
      let loss = 0;
      if (fromLogits) {
        // −Σ t·log softmax(z); d/dz = p·Σt − t.
        let sumT = 0;
        for (let k = 0; k < classes; k++) {
          const t = targets[base + k];
          sumT += t;
          loss -= t * (z[base + k] - max - Math.log(sumExp));
        }
        for (let k = 0; k < classes; k++) dz[base + k] = weight * (probabilities[base + k] * sumT - targets[base + k]);
      } else {
        // p = softmax(z); q = p / Σp; c = clip(q, ε, 1 − ε); loss = −Σ t·log c. Backward through each step
        // (the clip passes no gradient outside its range, as tf.clipByValue's gradient).
        let sumP = 0;
        for (let k = 0; k < classes; k++) sumP += probabilities[base + k];
        let gq = 0;
        const dq = new Float64Array(classes);
        for (let k = 0; k < classes; k++) {
          const q = probabilities[base + k] / sumP;
          const c = Math.min(Math.max(q, EPSILON), 1 - EPSILON);
          const t = targets[base + k];
          loss -= t * Math.log(c);
          dq[k] = q >= EPSILON && q <= 1 - EPSILON ? -t / c : 0;
          gq += dq[k] * q;
        }
        // q = p / s: dp_j = (dq_j − Σ_k dq_k q_k) / s; softmax: dz_j = p_j (dp_j − Σ_k dp_k p_k).
        let dot = 0;
        for (let k = 0; k < classes; k++) {
          dq[k] = (dq[k] - gq) / sumP;
          dot += dq[k] * probabilities[base + k];
        }
        for (let k = 0; k < classes; k++) dz[base + k] = weight * probabilities[base + k] * (dq[k] - dot);
      }
      total += loss * (sampleWeights ? sampleWeights[r] : 1);
    }
    return total / n;
  }

  /** optimizers.ts' update, float32 operation for operation. */
  function applyOptimizer(): void {
    const spec: OptimizerSpec = optimizer.spec;
    const lr = f(optimizer.lr);
    if (spec.name === "sgd") {
      const momentum = spec.momentum ?? 0;
      const decay = spec.weightDecay ?? 0;
      const momentum32 = f(momentum);
      const decay32 = f(decay);
      for (const p of params) {
        const w = p.value;
        for (let i = 0; i < w.length; i++) {
          let g = f(p.grad[i]);
          if (decay > 0) g = f(g + f(w[i] * decay32));
          if (momentum > 0) {
            const v = f(f(p.m[i] * momentum32) + g);
            p.m[i] = v;
            g = spec.nesterov ? f(g + f(v * momentum32)) : v;
          }
          w[i] = f(w[i] - f(g * lr));
        }
      }
      return;
    }
    const decoupled = spec.name === "adamw";
    const beta1 = spec.beta1 ?? 0.9;
    const beta2 = spec.beta2 ?? 0.999;
    const epsilon = f(spec.epsilon ?? 1e-8);
    const decay = spec.weightDecay ?? (decoupled ? 0.01 : 0);
    iterations++;
    const c1 = f(1 - Math.pow(beta1, iterations));
    const c2 = f(1 - Math.pow(beta2, iterations));
    const [b1, b2, ob1, ob2] = [f(beta1), f(beta2), f(1 - beta1), f(1 - beta2)];
    const shrink = f(1 - optimizer.lr * decay);
    const decay32 = f(decay);
    for (const p of params) {
      const w = p.value;
      const shrinkThis = decoupled && decay > 0 && p.kernel;
      for (let i = 0; i < w.length; i++) {
        let g = f(p.grad[i]);
        if (!decoupled && decay > 0) g = f(g + f(w[i] * decay32));
        const m = f(f(p.m[i] * b1) + f(g * ob1));
        const v = f(f(p.v[i] * b2) + f(f(g * g) * ob2));
        p.m[i] = m;
        p.v[i] = v;
        const base = shrinkThis ? f(w[i] * shrink) : w[i];
        const update = f(f(f(m / c1) / f(f(Math.sqrt(f(v / c2))) + epsilon)) * lr);
        w[i] = f(base - update);
      }
    }
  }

  let iterations = 0;
  const predictedBuffer = new Int32Array(batch);

  return {
    parameterCount: params.reduce((a, p) => a + p.value.length, 0),
    load() {
      for (const p of allWeights) p.value.set(p.weight.read().dataSync() as Float32Array);
    },
    store() {
      for (const p of allWeights) {
        // A copy: backends may keep the given array as the tensor's data, which the next steps would then change.
        const t = tf.tensor(p.value.slice(), p.weight.shape);
        p.weight.write(t);
        t.dispose();
      }
    },
    native: kernels !== null,
    step(given, targets, sampleWeights, dropoutRng) {
      const n = "rows" in given ? given.rows.length : given.size;
      if (n > batch) throw new Error(`fused steps: batch of ${n} rows, compiled for ${batch}`);
      modelInputs.forEach((id, i) => {
        const t = tensors[id];
        if ("inputs" in given) {
          if (given.inputs[i].length < n * t.width) throw new Error(`fused steps: input ${i} has ${given.inputs[i].length} values, the batch needs ${n} × ${t.width}`);
          t.data.set(given.inputs[i].subarray(0, n * t.width));
          return;
        }
        if (!inputs) throw new Error("fused steps: compiled without inputs, so batches must bring theirs");
        const source = inputs[i];
        for (const [r, row] of given.rows.entries()) t.data.set(source.subarray(row * t.width, (row + 1) * t.width), r * t.width);
      });
      forward(n, dropoutRng);
      grads.forEach((g, id) => {
        if (isInput.has(id)) return;
        const size = n * tensors[id].width;
        if (kernels && isImage(id)) kernels.fillZero(g, size);
        else g.fill(0, 0, size);
      });
      const predicted = predictedBuffer.subarray(0, n);
      const loss = lossAndGradient(n, targets, sampleWeights, predicted);
      backward(n);
      applyOptimizer();
      return { loss, predicted: Int32Array.from(predicted) };
    },
  };
}
