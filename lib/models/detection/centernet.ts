import * as tf from "@tensorflow/tfjs";
import { conv2d } from "../../engine";
import { createRng } from "../../util";
import { decodeBox, encodeBox, gaussianRadius, type Box } from "./boxes";

/**
 * An anchor-free CenterNet-style head on two feature maps (stride 8 and stride 16): the stride-16 map is upsampled
 * and concatenated to the stride-8 one, a 1×1 convolution reduces them to the head's width, 3×3 convolutions mix
 * them (each widens the receptive field by 2 cells), and one 1×1 convolution predicts
 * per cell K class-centre logits + 4 box numbers (centre offset x, y in the cell; log width, log height in cells).
 * Output [batch, G, G, K + 4] with G = input size / 8.
 */
export const OUTPUT_STRIDE = 8;

export interface HeadOptions {
  numClasses: number;
  /** Channels of the stride-8 / stride-16 feature maps (32 / 96 for MobileNetV2). */
  channels8: number;
  channels16: number;
  /** Width of the head's blocks (default 64). */
  width?: number;
  /** Number of 3×3 convolutions (default 2). */
  blocks?: number;
  seed?: number;
}

/** Logit of the prior probability of a centre at a cell: CenterNet's −2.19 (p ≈ 0.1) keeps the first steps stable. */
const HEATMAP_PRIOR_BIAS = -2.19;

export function buildCenterNetHead(options: HeadOptions): tf.LayersModel {
  const width = options.width ?? 64;
  const blocks = options.blocks ?? 2;
  const f8 = tf.input({ shape: [null, null, options.channels8], name: "features_s8" });
  const f16 = tf.input({ shape: [null, null, options.channels16], name: "features_s16" });
  const up = tf.layers.upSampling2d({ size: [2, 2], name: "s16_up" }).apply(f16) as tf.SymbolicTensor;
  let h = tf.layers.concatenate({ name: "fuse" }).apply([f8, up]) as tf.SymbolicTensor;
  h = conv2d({ filters: width, kernelSize: 1, activation: "relu", name: "reduce" }).apply(h) as tf.SymbolicTensor;
  // Plain 3×3 convolutions: on wasm they train on the engine's SIMD kernels, while a depthwise filter gradient runs
  // about 9× slower than the whole rest of a step (measured), which ruled out separable blocks.
  for (let b = 0; b < blocks; b++) {
    h = conv2d({ filters: width, kernelSize: 3, padding: "same", activation: "relu", name: `block${b}_conv` }).apply(h) as tf.SymbolicTensor;
  }
  const out = conv2d({ filters: options.numClasses + 4, kernelSize: 1, name: "head_out" }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [f8, f16], outputs: out, name: "centernet_head" });
  seedHeadWeights(model, options.seed ?? 0, options.numClasses);
  return model;
}

/** He-normal kernels from the project's seeded RNG, zero biases, the heatmap prior on the class logits. */
function seedHeadWeights(model: tf.LayersModel, seed: number, numClasses: number): void {
  const root = createRng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const name = w.originalName;
    if (/kernel/.test(name)) {
      const fanIn = /depthwise/.test(name) ? shape[0] * shape[1] : shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = (/head_out/.test(name) ? 0.01 : 1) * Math.sqrt(2 / fanIn);
      const rng = root.fork(name);
      for (let i = 0; i < size; i++) data[i] = std * rng.normal();
    } else if (/head_out.*bias/.test(name)) {
      for (let k = 0; k < numClasses; k++) data[k] = HEATMAP_PRIOR_BIAS;
    }
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** One object for the targets: box in network-input pixels and its class index (0…K−1). */
export interface TargetObject {
  box: Box;
  classIndex: number;
}

/** Dense training targets of one image: heatmap [G, G, K] (1 at centres, Gaussian around), box numbers and mask [G, G, 4/1]. */
export interface ImageTargets {
  heatmap: Float32Array;
  regression: Float32Array;
  mask: Float32Array;
}

export function buildTargets(objects: readonly TargetObject[], gridSize: number, numClasses: number, stride = OUTPUT_STRIDE): ImageTargets {
  const G = gridSize;
  const heatmap = new Float32Array(G * G * numClasses);
  const regression = new Float32Array(G * G * 4);
  const mask = new Float32Array(G * G);
  for (const { box, classIndex } of objects) {
    const encoded = encodeBox(box, stride, G);
    const radius = Math.max(0, Math.floor(gaussianRadius(box[2] / stride, box[3] / stride)));
    const sigma = (2 * radius + 1) / 6;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const x = encoded.cx + dx;
        const y = encoded.cy + dy;
        if (x < 0 || y < 0 || x >= G || y >= G) continue;
        const value = dx === 0 && dy === 0 ? 1 : Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
        const k = (y * G + x) * numClasses + classIndex;
        if (value > heatmap[k]) heatmap[k] = value;
      }
    }
    const cell = encoded.cy * G + encoded.cx;
    regression.set([encoded.offsetX, encoded.offsetY, encoded.logW, encoded.logH], cell * 4);
    mask[cell] = 1;
  }
  return { heatmap, regression, mask };
}

export interface LossParts {
  total: tf.Scalar;
  heatmap: tf.Scalar;
  box: tf.Scalar;
}

/**
 * CenterNet's loss: penalty-reduced pixel-wise focal loss on the heatmap (α = 2, β = 4) + L1 on the four box numbers
 * at object centres, both divided by the number of objects in the batch.
 */
export function centerNetLoss(output: tf.Tensor4D, heatmap: tf.Tensor4D, regression: tf.Tensor4D, mask: tf.Tensor4D, numClasses: number): LossParts {
  return tf.tidy(() => {
    const logits = output.slice([0, 0, 0, 0], [-1, -1, -1, numClasses]);
    const boxes = output.slice([0, 0, 0, numClasses], [-1, -1, -1, 4]);
    const p = tf.sigmoid(logits);
    const logP = tf.neg(tf.softplus(tf.neg(logits)));
    const log1mP = tf.neg(tf.softplus(logits));
    const positive = tf.cast(tf.greaterEqual(heatmap, 1), "float32");
    const negative = tf.sub(1, positive);
    const positiveLoss = tf.mul(tf.mul(tf.square(tf.sub(1, p)), logP), positive);
    const negativeLoss = tf.mul(tf.mul(tf.mul(tf.pow(tf.sub(1, heatmap), 4), tf.square(p)), log1mP), negative);
    const count = tf.maximum(tf.sum(mask), 1);
    const heatmapLoss = tf.div(tf.neg(tf.add(tf.sum(positiveLoss), tf.sum(negativeLoss))), count) as tf.Scalar;
    const boxLoss = tf.div(tf.sum(tf.mul(tf.abs(tf.sub(boxes, regression)), mask)), count) as tf.Scalar;
    return { total: tf.add(heatmapLoss, boxLoss) as tf.Scalar, heatmap: heatmapLoss, box: boxLoss };
  });
}

export interface RawDetection {
  box: Box;
  classIndex: number;
  score: number;
}

/**
 * Peaks of the class heatmaps (a 3×3 max-pool keeps local maxima, CenterNet's NMS), the `topK` best over all classes,
 * each decoded to a box in network-input pixels. `output`: one image [G, G, K + 4].
 */
export function decodeOutput(output: tf.Tensor3D, numClasses: number, options: { topK?: number; minScore?: number; stride?: number } = {}): RawDetection[] {
  const topK = options.topK ?? 100;
  const minScore = options.minScore ?? 0.01;
  const stride = options.stride ?? OUTPUT_STRIDE;
  const W = output.shape[1];
  const [scores, regression] = tf.tidy(() => {
    const heat = tf.sigmoid(output.slice([0, 0, 0], [-1, -1, numClasses])) as tf.Tensor3D;
    const pooled = tf.maxPool(heat, 3, 1, "same");
    const peaks = tf.mul(heat, tf.cast(tf.equal(heat, pooled), "float32"));
    return [peaks.dataSync() as Float32Array, output.slice([0, 0, numClasses], [-1, -1, 4]).dataSync() as Float32Array];
  });
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] >= minScore) candidates.push(i);
  candidates.sort((a, b) => scores[b] - scores[a] || a - b);
  return candidates.slice(0, topK).map((i) => {
    const classIndex = i % numClasses;
    const cell = (i - classIndex) / numClasses;
    const cx = cell % W;
    const cy = (cell - cx) / W;
    const r = regression.subarray(cell * 4, cell * 4 + 4);
    return { box: decodeBox({ cx, cy, offsetX: r[0], offsetY: r[1], logW: r[2], logH: r[3] }, stride), classIndex, score: scores[i] };
  });
}
