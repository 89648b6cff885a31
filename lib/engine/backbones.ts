import * as tf from "@tensorflow/tfjs";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createRng } from "../util";
import { compileFrozenForward } from "./frozen";
import { loadLayersModelFrom, readModelArtifacts } from "./io";
import { batchNormalization, conv2d } from "./layers";
import { MOBILENET_V2_DIR, resolveModelsDir } from "./weights";

/**
 * Image backbones: a network from pixels to an embedding vector.
 * Only MobileNetV2 has pretrained (ImageNet) weights offline; the others are the same architectures
 * families built with seeded random initialisation, to train from scratch or to load published weights.
 */

export type BackboneName = "mobilenet-v2" | "small-cnn" | "resnet18" | "resnet50" | "efficientnet-b0";

export interface Backbone {
  name: BackboneName;
  /** Pixels [batch, size, size, 3] (already scaled by `preprocess`) → embedding [batch, embeddingSize]. */
  model: tf.LayersModel;
  inputSize: number;
  embeddingSize: number;
  /** True for ImageNet weights; false for random initialisation. */
  pretrained: boolean;
  /** Identifies the weights (sha256 of the files, or of the architecture + seed): part of every cache key. */
  weightsHash: string;
  /** RGB [0, 255] → the network's input range. */
  preprocess(pixels: tf.Tensor4D): tf.Tensor4D;
  /**
   * Inference embedding of RGB [0, 255] pixels [batch, inputSize, inputSize, 3] → [batch, embeddingSize]:
   * preprocess + forward with fused convolutions (BatchNorm with moving statistics). The caller disposes the result.
   */
  embed(pixels: tf.Tensor4D): tf.Tensor2D;
}

/** `embed` for a model: the fused frozen forward when every layer is supported, else model.predict. */
export function makeEmbed(model: tf.LayersModel, preprocess: (pixels: tf.Tensor4D) => tf.Tensor4D): (pixels: tf.Tensor4D) => tf.Tensor2D {
  const fused = compileFrozenForward(model);
  return (pixels) =>
    tf.tidy(() => {
      const x = preprocess(pixels);
      return (fused ? fused(x) : (model.predict(x) as tf.Tensor)) as tf.Tensor2D;
    });
}

/** All backbones here take RGB scaled to [-1, 1]: value = (pixel − 128) / 128, as MobileNetV2 was trained. */
export function scaleToMinusOneOne(pixels: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(pixels, 128), 128) as tf.Tensor4D);
}

export const MOBILENET_EMBEDDING_LAYER = "global_pool";

/**
 * ImageNet MobileNetV2 (1.0, 224) as a frozen embedding model: input 224×224 RGB in [-1, 1], output the
 * 1280-d `global_pool` layer. `source`: a folder, model.json path or URL; default the offline copy.
 * `inputSize`: another square side for the same weights (the network is convolutional up to `global_pool`), e.g.
 * 128, the photos' native size: ~3× fewer FLOPs, a different embedding; the cache keeps sizes apart.
 */
export async function loadMobileNetV2(source?: string, options: { inputSize?: number } = {}): Promise<Backbone> {
  const location = source ?? path.join(resolveModelsDir(), MOBILENET_V2_DIR, "tfjs");
  const size = options.inputSize;
  if (size !== undefined && !(Number.isInteger(size) && size >= 32)) throw new Error(`loadMobileNetV2: inputSize must be a whole number ≥ 32, got ${size}`);
  const { model: full, weightsHash } = size === undefined ? await loadLayersModelFrom(location) : await loadAtInputSize(location, size);
  let pool: tf.layers.Layer;
  try {
    pool = full.getLayer(MOBILENET_EMBEDDING_LAYER);
  } catch {
    throw new Error(`loadMobileNetV2: ${location} has no layer "${MOBILENET_EMBEDDING_LAYER}" (not the expected MobileNetV2)`);
  }
  const model = tf.model({ inputs: full.inputs, outputs: pool.output as tf.SymbolicTensor, name: `mobilenet_v2_embedding${size ? `_${size}` : ""}` });
  model.trainable = false;
  const inputSize = full.inputs[0].shape[1] ?? 224;
  const embeddingSize = (pool.output as tf.SymbolicTensor).shape[1] as number;
  const embed = makeEmbed(model, scaleToMinusOneOne);
  return { name: "mobilenet-v2", model, inputSize, embeddingSize, pretrained: true, weightsHash, preprocess: scaleToMinusOneOne, embed };
}

/** A local LayersModel with its (single) input layer resized to size × size. */
async function loadAtInputSize(location: string, size: number): Promise<{ model: tf.LayersModel; weightsHash: string }> {
  if (/^https?:\/\//i.test(location)) throw new Error(`loadMobileNetV2: inputSize needs a local model folder, not ${location}`);
  const { artifacts, sha256 } = readModelArtifacts(location);
  type LayerJson = { class_name: string; config: { batch_input_shape?: (number | null)[] } };
  const topology = JSON.parse(JSON.stringify(artifacts.modelTopology)) as { model_config?: { config: { layers: LayerJson[] } }; config?: { layers: LayerJson[] } };
  const inputs = ((topology.model_config ?? topology).config?.layers ?? []).filter((l) => l.class_name === "InputLayer");
  if (inputs.length !== 1) throw new Error(`loadMobileNetV2: ${location} has ${inputs.length} input layers, expected 1`);
  inputs[0].config.batch_input_shape = [null, size, size, 3];
  return { model: await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology })), weightsHash: sha256 };
}

// ---------- architectures with random initialisation ----------

type T = tf.SymbolicTensor;
const L = tf.layers;

function convBn(x: T, filters: number, kernelSize: number, strides: number, activation: "relu" | "swish" | "linear", name: string): T {
  let h = conv2d({ filters, kernelSize, strides, padding: "same", useBias: false, name: `${name}_conv` }).apply(x) as T;
  h = batchNormalization({ name: `${name}_bn` }).apply(h) as T;
  return activation === "linear" ? h : (L.activation({ activation, name: `${name}_${activation}` }).apply(h) as T);
}

function smallCnn(input: T): T {
  let h = conv2d({ filters: 16, kernelSize: 3, padding: "same", name: "conv1" }).apply(input) as T;
  h = batchNormalization({ name: "bn1" }).apply(h) as T;
  h = L.activation({ activation: "relu", name: "relu1" }).apply(h) as T;
  h = L.maxPooling2d({ poolSize: 2, name: "pool1" }).apply(h) as T;
  h = conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu", name: "conv2" }).apply(h) as T;
  return L.globalAveragePooling2d({ name: "global_pool" }).apply(h) as T;
}

function resnetStem(input: T): T {
  const h = convBn(input, 64, 7, 2, "relu", "stem");
  return L.maxPooling2d({ poolSize: 3, strides: 2, padding: "same", name: "stem_pool" }).apply(h) as T;
}

function basicBlock(x: T, filters: number, strides: number, name: string): T {
  let h = convBn(x, filters, 3, strides, "relu", `${name}_a`);
  h = convBn(h, filters, 3, 1, "linear", `${name}_b`);
  const inChannels = x.shape[3];
  const shortcut = strides !== 1 || inChannels !== filters ? convBn(x, filters, 1, strides, "linear", `${name}_proj`) : x;
  const sum = L.add({ name: `${name}_add` }).apply([h, shortcut]) as T;
  return L.activation({ activation: "relu", name: `${name}_out` }).apply(sum) as T;
}

function bottleneckBlock(x: T, width: number, strides: number, name: string): T {
  let h = convBn(x, width, 1, 1, "relu", `${name}_a`);
  h = convBn(h, width, 3, strides, "relu", `${name}_b`);
  h = convBn(h, width * 4, 1, 1, "linear", `${name}_c`);
  const inChannels = x.shape[3];
  const shortcut = strides !== 1 || inChannels !== width * 4 ? convBn(x, width * 4, 1, strides, "linear", `${name}_proj`) : x;
  const sum = L.add({ name: `${name}_add` }).apply([h, shortcut]) as T;
  return L.activation({ activation: "relu", name: `${name}_out` }).apply(sum) as T;
}

function resnet(input: T, blocks: number[], bottleneck: boolean): T {
  let h = resnetStem(input);
  const widths = [64, 128, 256, 512];
  blocks.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      const strides = stage > 0 && i === 0 ? 2 : 1;
      const name = `stage${stage + 1}_block${i + 1}`;
      h = bottleneck ? bottleneckBlock(h, widths[stage], strides, name) : basicBlock(h, widths[stage], strides, name);
    }
  });
  return L.globalAveragePooling2d({ name: "global_pool" }).apply(h) as T;
}

/** EfficientNet MBConv: expand 1×1 → depthwise k×k → squeeze-excite → project 1×1 (+ residual). */
function mbConv(x: T, expand: number, kernelSize: number, strides: number, filters: number, name: string): T {
  const inChannels = x.shape[3] as number;
  let h = x;
  if (expand !== 1) h = convBn(h, inChannels * expand, 1, 1, "swish", `${name}_expand`);
  h = L.depthwiseConv2d({ kernelSize, strides, padding: "same", useBias: false, name: `${name}_dw` }).apply(h) as T;
  h = batchNormalization({ name: `${name}_dw_bn` }).apply(h) as T;
  h = L.activation({ activation: "swish", name: `${name}_dw_swish` }).apply(h) as T;
  const channels = h.shape[3] as number;
  const squeezed = Math.max(1, Math.floor(inChannels / 4));
  let se = L.globalAveragePooling2d({ name: `${name}_se_pool` }).apply(h) as T;
  se = L.reshape({ targetShape: [1, 1, channels], name: `${name}_se_reshape` }).apply(se) as T;
  se = conv2d({ filters: squeezed, kernelSize: 1, activation: "swish", name: `${name}_se_reduce` }).apply(se) as T;
  se = conv2d({ filters: channels, kernelSize: 1, activation: "sigmoid", name: `${name}_se_expand` }).apply(se) as T;
  h = L.multiply({ name: `${name}_se_scale` }).apply([h, se]) as T;
  h = convBn(h, filters, 1, 1, "linear", `${name}_project`);
  if (strides === 1 && inChannels === filters) h = L.add({ name: `${name}_add` }).apply([h, x]) as T;
  return h;
}

function efficientNetB0(input: T): T {
  let h = convBn(input, 32, 3, 2, "swish", "stem");
  // [expand, kernel, stride, filters, repeats] of EfficientNet-B0.
  const stages: Array<[number, number, number, number, number]> = [
    [1, 3, 1, 16, 1],
    [6, 3, 2, 24, 2],
    [6, 5, 2, 40, 2],
    [6, 3, 2, 80, 3],
    [6, 5, 1, 112, 3],
    [6, 5, 2, 192, 4],
    [6, 3, 1, 320, 1],
  ];
  stages.forEach(([expand, kernel, stride, filters, repeats], s) => {
    for (let i = 0; i < repeats; i++) h = mbConv(h, expand, kernel, i === 0 ? stride : 1, filters, `block${s + 1}${"abcd"[i]}`);
  });
  h = convBn(h, 1280, 1, 1, "swish", "top");
  return L.globalAveragePooling2d({ name: "global_pool" }).apply(h) as T;
}

/** MobileNetV2 inverted residual, for a random-init MobileNetV2 of any input size. */
function invertedResidual(x: T, expand: number, strides: number, filters: number, name: string): T {
  const inChannels = x.shape[3] as number;
  let h = x;
  if (expand !== 1) {
    h = conv2d({ filters: inChannels * expand, kernelSize: 1, useBias: false, name: `${name}_expand` }).apply(h) as T;
    h = batchNormalization({ name: `${name}_expand_bn` }).apply(h) as T;
    h = L.activation({ activation: "relu6", name: `${name}_expand_relu6` }).apply(h) as T;
  }
  h = L.depthwiseConv2d({ kernelSize: 3, strides, padding: "same", useBias: false, name: `${name}_dw` }).apply(h) as T;
  h = batchNormalization({ name: `${name}_dw_bn` }).apply(h) as T;
  h = L.activation({ activation: "relu6", name: `${name}_dw_relu6` }).apply(h) as T;
  h = conv2d({ filters, kernelSize: 1, useBias: false, name: `${name}_project` }).apply(h) as T;
  h = batchNormalization({ name: `${name}_project_bn` }).apply(h) as T;
  if (strides === 1 && inChannels === filters) h = L.add({ name: `${name}_add` }).apply([h, x]) as T;
  return h;
}

function mobileNetV2(input: T): T {
  let h = conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "stem_conv" }).apply(input) as T;
  h = batchNormalization({ name: "stem_bn" }).apply(h) as T;
  h = L.activation({ activation: "relu6", name: "stem_relu6" }).apply(h) as T;
  const stages: Array<[number, number, number, number]> = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  stages.forEach(([expand, filters, repeats, stride], s) => {
    for (let i = 0; i < repeats; i++) h = invertedResidual(h, expand, i === 0 ? stride : 1, filters, `block${s + 1}_${i + 1}`);
  });
  h = conv2d({ filters: 1280, kernelSize: 1, useBias: false, name: "top_conv" }).apply(h) as T;
  h = batchNormalization({ name: "top_bn" }).apply(h) as T;
  h = L.activation({ activation: "relu6", name: "top_relu6" }).apply(h) as T;
  return L.globalAveragePooling2d({ name: "global_pool" }).apply(h) as T;
}

const ARCHITECTURES: Record<BackboneName, { build: (input: T) => T; defaultSize: number }> = {
  "small-cnn": { build: smallCnn, defaultSize: 64 },
  resnet18: { build: (x) => resnet(x, [2, 2, 2, 2], false), defaultSize: 224 },
  resnet50: { build: (x) => resnet(x, [3, 4, 6, 3], true), defaultSize: 224 },
  "efficientnet-b0": { build: efficientNetB0, defaultSize: 224 },
  "mobilenet-v2": { build: mobileNetV2, defaultSize: 224 },
};

export const BACKBONE_NAMES = Object.keys(ARCHITECTURES) as BackboneName[];

export interface CreateBackboneOptions {
  /** Square input side (default: 64 for small-cnn, 224 otherwise). */
  inputSize?: number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

/**
 * Fill every weight from the project's seeded RNG so the same seed gives the same network on any machine:
 * He-normal kernels (fan-in; depthwise fan-in = kernel area), zero biases/β/moving means, unit γ/moving variances.
 */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const root = createRng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const name = w.originalName;
    if (/gamma|moving_variance/.test(name)) data.fill(1);
    else if (/kernel/.test(name) && shape.length >= 2) {
      const fanIn = /depthwise/.test(name) ? shape[0] * shape[1] : shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / fanIn);
      const rng = root.fork(name);
      for (let i = 0; i < size; i++) data[i] = std * rng.normal();
    }
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** A backbone architecture with seeded random weights (trainable), ending at its global pooling layer. */
export function createBackbone(name: BackboneName, options: CreateBackboneOptions = {}): Backbone {
  const architecture = ARCHITECTURES[name];
  if (!architecture) throw new Error(`createBackbone: unknown backbone "${name}"; use one of ${BACKBONE_NAMES.join(", ")}`);
  const inputSize = options.inputSize ?? architecture.defaultSize;
  const seed = options.seed ?? 0;
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: "pixels" });
  const output = architecture.build(input);
  const model = tf.model({ inputs: input, outputs: output, name: name.replace(/-/g, "_") });
  seedWeights(model, seed);
  const weightsHash = createHash("sha256").update(`${name}:${inputSize}:seed=${seed}:init=he-normal-v1`).digest("hex");
  return {
    name,
    model,
    inputSize,
    embeddingSize: output.shape[1] as number,
    pretrained: false,
    weightsHash,
    preprocess: scaleToMinusOneOne,
    embed: makeEmbed(model, scaleToMinusOneOne),
  };
}

/**
 * Published tfjs weights for an architecture (folder, model.json path or URL; for users who are online).
 * `embeddingLayer` names the layer whose output is the embedding (default: "global_pool", else the last layer).
 */
export async function loadBackbone(
  name: BackboneName,
  source: string,
  options: { embeddingLayer?: string } = {},
): Promise<Backbone> {
  if (name === "mobilenet-v2" && options.embeddingLayer === undefined) return loadMobileNetV2(source);
  const { model: full, weightsHash } = await loadLayersModelFrom(source);
  const layerName = options.embeddingLayer ?? MOBILENET_EMBEDDING_LAYER;
  let output: tf.SymbolicTensor;
  try {
    output = full.getLayer(layerName).output as tf.SymbolicTensor;
  } catch {
    output = full.outputs[0];
  }
  const model = tf.model({ inputs: full.inputs, outputs: output });
  return {
    name,
    model,
    inputSize: full.inputs[0].shape[1] ?? 224,
    embeddingSize: output.shape[output.shape.length - 1] as number,
    pretrained: true,
    weightsHash,
    preprocess: scaleToMinusOneOne,
    embed: makeEmbed(model, scaleToMinusOneOne),
  };
}
