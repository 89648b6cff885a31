/**
 * Grad-CAM (Selvaraju et al. 2017) for the image branch:
 *   A = activations of a convolutional layer [h, w, k],  gᵏ = mean over (i, j) of ∂score_c/∂A[i, j, k],
 *   cam = ReLU(Σₖ gᵏ · A[:, :, k]), scaled to [0, 1], upsampled (bilinear) to the photo and drawn over it.
 *
 * How the gradient is taken: the model's layer graph is replayed eagerly (each layer's `apply` on concrete
 * tensors, inference mode, weights shared with the model): first from the inputs to the chosen layer, then —
 * inside `tf.grad` — from that layer's activations to the output. Works for Sequential and functional
 * LayersModels (MobileNetV2 from lib/engine, CNNs trained from scratch) without rebuilding them.
 *
 * Targets:
 * - a LayersModel image → class scores: `score: "logit"` (default) explains the pre-softmax score — a final softmax
 *   (a Softmax or Activation layer, or a Dense layer's softmax activation) is skipped, because the probability saturates and
 *   its gradient fades for confident predictions; `score: "output"` uses the model output as is.
 * - a multi-input LayersModel (image + metadata) whose backbone is nested as a layer (`backbone.apply(image)`):
 *   nested models are opened and replayed layer by layer, so the default layer is found inside the backbone; give
 *   all inputs (`gradCam(model, [images, meta])`, or `modelInputs` in gradCamImages). A nested model used twice
 *   (shared weights on two inputs) is refused.
 * - `{ backbone, head }` for fusion models whose image branch is a separate backbone: the gradient flows through
 *   `head(embedding, indices)` — any differentiable tf function, typically
 *   `(e, idx) => fusion.apply([e, tf.gather(metaTensor, idx)], { training: false })` — so the explained score is
 *   head(backbone(image), metadata). Return logits from the head. The conv layer is found inside the backbone.
 */
import * as tf from "@tensorflow/tfjs";
import type { RgbImage } from "../data";
import { resizeImage } from "../images";
import type { GridItem } from "../viz";
import { argmax, type ProbabilityRows } from "./report";

export type EmbeddingHead = (embedding: tf.Tensor, indices: readonly number[]) => tf.Tensor;

export type GradCamTarget = tf.LayersModel | { backbone: tf.LayersModel; head: EmbeddingHead };

export interface GradCamOptions {
  /** Convolutional layer to explain; default the last layer with a 4-D output larger than 1×1 (the one before global pooling). */
  layerName?: string;
  /** Class per image (number for all, array per image); default the predicted class. */
  classIndex?: number | readonly number[];
  /** "logit" (default): skip a final softmax of a LayersModel target; "output": the model output as is. */
  score?: "logit" | "output";
}

type Symbolic = tf.SymbolicTensor;

interface GraphNode {
  inputTensors: Symbolic[];
  outputTensors: Symbolic[];
  callArgs?: Record<string, unknown>;
}

function nodeOf(tensor: Symbolic): GraphNode {
  const node = (tensor.sourceLayer as unknown as { inboundNodes: GraphNode[] }).inboundNodes[tensor.nodeIndex];
  if (!node) throw new Error(`Grad-CAM: cannot find the graph node of tensor ${tensor.name}`);
  return node;
}

function rank(tensor: Symbolic): number {
  return tensor.shape.length;
}

function isNestedModel(tensor: Symbolic): boolean {
  return tensor.sourceLayer instanceof tf.LayersModel;
}

function isGraphInput(tensor: Symbolic): boolean {
  return nodeOf(tensor).inputTensors.length === 0;
}

/**
 * The layer graph of a model, nested models (a backbone used as a layer, a Sequential inside a functional
 * model) opened up: `links` maps each nested model's input tensor to the outer tensor that feeds it.
 */
interface Graph {
  model: tf.LayersModel;
  links: Map<number, Symbolic>;
  /** Every tensor the outputs depend on, breadth-first from the outputs; a nested model's inside comes right after the tensor it produces. */
  order: Symbolic[];
}

function graphOf(model: tf.LayersModel): Graph {
  const links = new Map<number, Symbolic>();
  const seen = new Set<number>();
  const order: Symbolic[] = [];
  const walk = (outputs: readonly Symbolic[]): void => {
    const queue = [...outputs];
    while (queue.length) {
      const t = queue.shift() as Symbolic;
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      order.push(t);
      const node = nodeOf(t);
      if (isNestedModel(t)) {
        const inner = t.sourceLayer as tf.LayersModel;
        inner.inputs.forEach((innerInput, i) => {
          const outer = node.inputTensors[i];
          const known = links.get(innerInput.id);
          if (known && known.id !== outer.id) {
            throw new Error(`Grad-CAM: nested model ${inner.name} is used more than once in the graph; pass it as { backbone, head }`);
          }
          links.set(innerInput.id, outer);
        });
        walk([inner.outputs[t.tensorIndex]]);
      }
      queue.push(...node.inputTensors);
      const link = links.get(t.id);
      if (link) queue.push(link);
    }
  };
  walk(model.outputs);
  return { model, links, order };
}

/** The tensor of `layerName` in this model's graph (nested models included), or the last 4-D activation before the outputs. */
function findConvIn(graph: Graph, layerName?: string): Symbolic {
  const { model, order } = graph;
  const candidates = order.filter((t) => !isGraphInput(t) && !isNestedModel(t));
  if (layerName !== undefined) {
    const found = candidates.find((t) => t.sourceLayer.name === layerName);
    if (!found) throw new Error(`Grad-CAM: model ${model.name} has no layer "${layerName}" in its graph`);
    if (rank(found) !== 4) throw new Error(`Grad-CAM: layer "${layerName}" outputs shape ${JSON.stringify(found.shape)}, not [batch, h, w, channels]`);
    return found;
  }
  // Skip 1×1 maps (e.g. a classifier written as a 1×1 convolution after pooling): nothing to localise there.
  const spatial = (t: Symbolic) => !(t.shape[1] === 1 && t.shape[2] === 1);
  const found = candidates.find((t) => rank(t) === 4 && spatial(t));
  if (!found) throw new Error(`Grad-CAM: model ${model.name} has no 4-D (convolutional) activation to explain`);
  return found;
}

/** The symbolic tensor Grad-CAM explains in `model` (layer `layerName`, or the default one). */
export function findConvTensor(model: tf.LayersModel, layerName?: string): Symbolic {
  return findConvIn(graphOf(model), layerName);
}

/** The layer Grad-CAM uses by default: the last one with a 4-D output larger than 1×1 (nested models included). */
export function defaultGradCamLayer(model: tf.LayersModel): string {
  return findConvTensor(model).sourceLayer.name;
}

/**
 * Replays the graph eagerly from `values` (symbolic tensor id → concrete tensor) up to `target`; new values are
 * added to `values`. A nested model is replayed layer by layer through `links`. `skipSoftmaxOf` names an output
 * tensor whose softmax is left out (logit mode).
 */
function replay(target: Symbolic, values: Map<number, tf.Tensor>, links: Map<number, Symbolic>, skipSoftmaxOf?: number): tf.Tensor {
  const known = values.get(target.id);
  if (known) return known;
  const link = links.get(target.id);
  if (link) {
    const value = replay(link, values, links, skipSoftmaxOf);
    values.set(target.id, value);
    return value;
  }
  const layer = target.sourceLayer;
  const node = nodeOf(target);
  if (node.inputTensors.length === 0) throw new Error(`Grad-CAM: model input ${target.name} was not given a value`);
  let outputs: tf.Tensor | tf.Tensor[];
  if (layer instanceof tf.LayersModel) {
    outputs = layer.outputs.map((t) => replay(t, values, links, skipSoftmaxOf));
  } else {
    const inputs = node.inputTensors.map((t) => replay(t, values, links, skipSoftmaxOf));
    const config = layer.getConfig() as { activation?: string; useBias?: boolean };
    const className = layer.getClassName();
    if (target.id === skipSoftmaxOf && (className === "Softmax" || (className === "Activation" && config.activation === "softmax"))) {
      outputs = inputs[0];
    } else if (target.id === skipSoftmaxOf && className === "Dense" && config.activation === "softmax") {
      const [kernel, bias] = layer.getWeights();
      const x = inputs[0];
      const flat = x.reshape([-1, x.shape[x.shape.length - 1]]);
      let z = tf.matMul(flat, kernel);
      if (config.useBias !== false && bias) z = tf.add(z, bias);
      outputs = z.reshape([...x.shape.slice(0, -1), kernel.shape[1] as number]);
    } else {
      outputs = layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(node.callArgs ?? {}), training: false }) as tf.Tensor | tf.Tensor[];
    }
  }
  const list = Array.isArray(outputs) ? outputs : [outputs];
  node.outputTensors.forEach((t, i) => values.set(t.id, list[i]));
  const value = values.get(target.id);
  if (!value) throw new Error(`Grad-CAM: layer ${layer.name} did not produce ${target.name}`);
  return value;
}

/** The tensor a logit-mode softmax skip applies to: the model output, or the inner output of a nested model producing it. */
function softmaxTensor(output: Symbolic): Symbolic {
  let t = output;
  while (isNestedModel(t)) t = (t.sourceLayer as tf.LayersModel).outputs[t.tensorIndex];
  return t;
}

export interface GradCamParts {
  /** [n, h, w, k] activations of the explained layer. */
  activations: tf.Tensor4D;
  /** [n, h, w, k] ∂score/∂activations, each image's score taken for its own class. */
  gradients: tf.Tensor4D;
  /** [n, classes] scores (logits in logit mode). */
  scores: tf.Tensor2D;
  classIndices: number[];
  layerName: string;
}

function targetParts(target: GradCamTarget): { model: tf.LayersModel; head?: EmbeddingHead } {
  return target instanceof tf.LayersModel ? { model: target } : { model: target.backbone, head: target.head };
}

/**
 * Activations and the gradient Grad-CAM weights them with (caller disposes the tensors). `input`: the model's
 * input batch, already preprocessed (e.g. backbone.preprocess(pixels)); for a multi-input model (image + metadata
 * in one LayersModel, the backbone nested as a layer) the list of inputs in `model.inputs` order.
 */
export async function gradCamParts(target: GradCamTarget, input: tf.Tensor | readonly tf.Tensor[], options: GradCamOptions = {}): Promise<GradCamParts> {
  const { model, head } = targetParts(target);
  const inputs = Array.isArray(input) ? [...input] : [input as tf.Tensor];
  if (inputs.length !== model.inputs.length) throw new Error(`Grad-CAM: model ${model.name} takes ${model.inputs.length} inputs (${model.inputs.map((t) => t.name).join(", ")}), got ${inputs.length}`);
  const graph = graphOf(model);
  const conv = findConvIn(graph, options.layerName);
  const output = model.outputs[0];
  const skip = !head && (options.score ?? "logit") === "logit" ? softmaxTensor(output).id : undefined;
  const n = inputs[0].shape[0] as number;
  const indices = Array.from({ length: n }, (_, i) => i);
  const fed = new Map<number, tf.Tensor>(model.inputs.map((t, i) => [t.id, inputs[i]]));
  const forward = (a: tf.Tensor): tf.Tensor2D => {
    const values = new Map(fed);
    values.set(conv.id, a);
    const out = replay(output, values, graph.links, skip);
    const scores = head ? head(out, indices) : out;
    if (scores.shape.length !== 2) throw new Error(`Grad-CAM: class scores have shape ${JSON.stringify(scores.shape)}, expected [batch, classes]`);
    return scores as tf.Tensor2D;
  };
  const [activations, scores] = tf.tidy(() => {
    const a = replay(conv, fed, graph.links, skip) as tf.Tensor4D;
    return [a, forward(a)];
  }) as [tf.Tensor4D, tf.Tensor2D];
  try {
    const numClasses = scores.shape[1];
    const chosen = options.classIndex;
    let classIndices: number[];
    if (chosen === undefined) {
      // Read with await: the only way to read a GPU tensor on WebGPU in Node.
      const rows = await scores.array();
      classIndices = rows.map((row) => argmax(row));
    } else {
      classIndices = typeof chosen === "number" ? indices.map(() => chosen) : [...chosen];
    }
    if (classIndices.length !== n) throw new Error(`Grad-CAM: ${classIndices.length} class indices for ${n} images`);
    classIndices.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new Error(`Grad-CAM: class index ${c} for image ${i} is not in 0..${numClasses - 1}`);
    });
    const gradients = tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d(classIndices, "int32"), numClasses).toFloat();
      // Images are independent in inference mode, so the gradient of the summed scores is each image's own gradient.
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(forward(a), mask)))(activations) as tf.Tensor4D;
    });
    return { activations, gradients, scores, classIndices, layerName: conv.sourceLayer.name };
  } catch (error) {
    tf.dispose([activations, scores]);
    throw error;
  }
}

export interface Heatmap {
  width: number;
  height: number;
  /** Row-major values in [0, 1]. */
  data: Float32Array;
}

export interface GradCamResult {
  classIndex: number;
  /** The explained score (logit in logit mode). */
  score: number;
  /** Class probabilities: softmax of the scores in logit mode or with a head; the model output in "output" mode. */
  probabilities: number[];
  /** ReLU(Σ gᵏ Aᵏ) at the layer's resolution, divided by its maximum (all zeros when nothing is positive). */
  heatmap: Heatmap;
  /** The maximum before scaling (0 ⇒ no region raises the score). */
  rawMax: number;
  /** Per-channel weights gᵏ (spatial mean of the gradient). */
  channelWeights: Float32Array;
}

/** Grad-CAM heat maps for a preprocessed input batch [n, size, size, 3] (or the inputs of a multi-input model). */
export async function gradCam(target: GradCamTarget, input: tf.Tensor | readonly tf.Tensor[], options: GradCamOptions = {}): Promise<GradCamResult[]> {
  const parts = await gradCamParts(target, input, options);
  try {
    const [n, h, w, k] = parts.activations.shape;
    const a = await parts.activations.data();
    const g = await parts.gradients.data();
    const scoreRows = await parts.scores.array();
    const logits = (options.score ?? "logit") === "logit" || !(target instanceof tf.LayersModel);
    const results: GradCamResult[] = [];
    for (let b = 0; b < n; b++) {
      const weights = new Float32Array(k);
      const base = b * h * w * k;
      for (let p = 0; p < h * w; p++) for (let c = 0; c < k; c++) weights[c] += g[base + p * k + c];
      for (let c = 0; c < k; c++) weights[c] /= h * w;
      const cam = new Float32Array(h * w);
      let max = 0;
      for (let p = 0; p < h * w; p++) {
        let sum = 0;
        for (let c = 0; c < k; c++) sum += weights[c] * a[base + p * k + c];
        cam[p] = Math.max(0, sum);
        if (cam[p] > max) max = cam[p];
      }
      if (max > 0) for (let p = 0; p < cam.length; p++) cam[p] /= max;
      const row = scoreRows[b];
      results.push({
        classIndex: parts.classIndices[b],
        score: row[parts.classIndices[b]],
        probabilities: logits ? softmax(row) : row,
        heatmap: { width: w, height: h, data: cam },
        rawMax: max,
        channelWeights: weights,
      });
    }
    return results;
  } finally {
    tf.dispose([parts.activations, parts.gradients, parts.scores]);
  }
}

function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Bilinear resize of a heat map (pixel centres aligned, as cv2.resize / tf.image.resizeBilinear(halfPixelCenters)). */
export function resizeHeatmap(map: Heatmap, width: number, height: number): Heatmap {
  const out = new Float32Array(width * height);
  const sx = map.width / width;
  const sy = map.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(map.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(map.height - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(map.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(map.width - 1, x0 + 1);
      const tx = fx - x0;
      const top = map.data[y0 * map.width + x0] * (1 - tx) + map.data[y0 * map.width + x1] * tx;
      const bottom = map.data[y1 * map.width + x0] * (1 - tx) + map.data[y1 * map.width + x1] * tx;
      out[y * width + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return { width, height, data: out };
}

/** The "jet" colour map (blue → cyan → yellow → red) as RGB in [0, 255], as Grad-CAM figures usually use. */
export function jetColor(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t));
  const channel = (offset: number) => 255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - offset)));
  return [channel(3), channel(2), channel(1)];
}

/** The heat map (resized to the photo) blended over it: pixel = (1 − alpha) · photo + alpha · jet(heat). */
export function overlayHeatmap(image: RgbImage, map: Heatmap, options: { alpha?: number } = {}): RgbImage {
  const alpha = options.alpha ?? 0.4;
  const heat = map.width === image.width && map.height === image.height ? map : resizeHeatmap(map, image.width, image.height);
  const data = new Float32Array(image.width * image.height * 3);
  for (let p = 0; p < image.width * image.height; p++) {
    const color = jetColor(heat.data[p]);
    for (let c = 0; c < 3; c++) data[p * 3 + c] = (1 - alpha) * image.data[p * 3 + c] + alpha * color[c];
  }
  return { width: image.width, height: image.height, data };
}

/** The heat map alone as a colour image (e.g. to show next to the overlay). */
export function heatmapImage(map: Heatmap, size?: { width: number; height: number }): RgbImage {
  const heat = size ? resizeHeatmap(map, size.width, size.height) : map;
  const data = new Float32Array(heat.width * heat.height * 3);
  for (let p = 0; p < heat.width * heat.height; p++) data.set(jetColor(heat.data[p]), p * 3);
  return { width: heat.width, height: heat.height, data };
}

export interface ImageGradCamOptions extends GradCamOptions {
  /** Side the model takes (default: the model input's height, e.g. 224 for MobileNetV2). */
  inputSize?: number;
  /** RGB [0, 255] → the model's input range (e.g. backbone.preprocess); default identity. */
  preprocess?: (pixels: tf.Tensor4D) => tf.Tensor4D;
  /** Images per forward/backward pass (default 8). */
  batchSize?: number;
  /** Overlay opacity (default 0.4). */
  alpha?: number;
  /**
   * For a multi-input LayersModel (image + metadata, backbone nested as a layer): all of the model's inputs for a
   * batch, in `model.inputs` order, from the preprocessed images and their indices into `images`, e.g.
   * `(images, idx) => [images, tf.gather(metaTensor, idx)]`. The returned tensors other than `images` are disposed.
   */
  modelInputs?: (images: tf.Tensor4D, indices: readonly number[]) => tf.Tensor[];
}

export interface ImageGradCamResult extends GradCamResult {
  /** The photo at its own size with the heat map drawn over it. */
  overlay: RgbImage;
}

/**
 * Grad-CAM for photos (RgbImage, any size, RGB [0, 255]): resized to the model input, preprocessed, explained
 * in batches; overlays are drawn on the original photos. The head (if any) gets the indices into `images`.
 */
export async function gradCamImages(target: GradCamTarget, images: readonly RgbImage[], options: ImageGradCamOptions = {}): Promise<ImageGradCamResult[]> {
  const { model } = targetParts(target);
  const imageInput = model.inputs.find((t) => t.shape.length === 4) ?? model.inputs[0];
  const size = options.inputSize ?? (imageInput.shape[1] as number | null) ?? 224;
  const batchSize = options.batchSize ?? 8;
  const results: ImageGradCamResult[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const indices = batch.map((_, i) => start + i);
    const pixels = new Float32Array(batch.length * size * size * 3);
    batch.forEach((image, i) => pixels.set((image.width === size && image.height === size ? image : resizeImage(image, size, size)).data, i * size * size * 3));
    const input = tf.tidy(() => {
      const raw = tf.tensor4d(pixels, [batch.length, size, size, 3]);
      return options.preprocess ? options.preprocess(raw) : raw;
    });
    const batchTarget: GradCamTarget = target instanceof tf.LayersModel ? target : { backbone: target.backbone, head: (e, local) => target.head(e, local.map((i) => indices[i])) };
    const classIndex = Array.isArray(options.classIndex) ? options.classIndex.slice(start, start + batch.length) : options.classIndex;
    const inputs = options.modelInputs ? options.modelInputs(input, indices) : [input];
    try {
      (await gradCam(batchTarget, inputs, { ...options, classIndex })).forEach((result, i) => {
        results.push({ ...result, overlay: overlayHeatmap(batch[i], result.heatmap, { alpha: options.alpha }) });
      });
    } finally {
      tf.dispose([input, ...inputs]);
    }
  }
  return results;
}

/**
 * Rows to explain: for each class, the `perClass` most confident correct predictions and the `perClass` most
 * confident wrong ones (true class = that class).
 */
export function gradCamExamples(yTrue: ArrayLike<number>, proba: ProbabilityRows, options: { perClass?: number } = {}): { index: number; trueClass: number; predictedClass: number; confidence: number; correct: boolean }[] {
  const perClass = options.perClass ?? 2;
  const numClasses = proba[0]?.length ?? 0;
  const rows = Array.from({ length: yTrue.length }, (_, index) => {
    const predictedClass = argmax(proba[index]);
    return { index, trueClass: yTrue[index], predictedClass, confidence: proba[index][predictedClass], correct: predictedClass === yTrue[index] };
  });
  const byConfidence = (a: { confidence: number; index: number }, b: { confidence: number; index: number }) => b.confidence - a.confidence || a.index - b.index;
  const chosen: typeof rows = [];
  for (let c = 0; c < numClasses; c++) {
    for (const correct of [true, false]) {
      chosen.push(...rows.filter((r) => r.trueClass === c && r.correct === correct).sort(byConfidence).slice(0, perClass));
    }
  }
  return chosen;
}

/** Grid items for lib/viz's image grid: overlay, caption "true → predicted (p)", green border if right, red if wrong. */
export function gradCamGridItems(
  results: readonly ImageGradCamResult[],
  options: { classNames: readonly string[]; trueClasses?: readonly number[]; captions?: readonly string[] },
): GridItem[] {
  return results.map((r, i) => {
    const truth = options.trueClasses?.[i];
    const predicted = argmax(r.probabilities);
    const parts = [
      truth === undefined ? `pred ${options.classNames[predicted]}` : `true ${options.classNames[truth]} → pred ${options.classNames[predicted]}`,
      `p ${r.probabilities[predicted].toFixed(2)}`,
      r.classIndex !== predicted ? `map for ${options.classNames[r.classIndex]}` : "",
      options.captions?.[i] ?? "",
    ].filter(Boolean);
    return { source: r.overlay, caption: parts.join(" · "), border: truth === undefined ? undefined : truth === predicted ? "#2ca02c" : "#d62728" };
  });
}
