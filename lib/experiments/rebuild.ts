/**
 * The chosen fusion model, rebuilt from its tracked recipe and retrained with the tracked seed (seeded → the same
 * weights as the tracked run; the validation score is compared with the logged one), plus what the evaluation
 * needs around it: the test inputs as one feature matrix with named groups (for permutation importance and
 * Shapley sampling) and a logit head over the frozen backbone's embedding (for Grad-CAM).
 *
 *   const prepared = await prepareEvaluation(data, recipe);                 // split, fitted steps, scalers, variants
 *   const trained = await retrainRecipe(prepared, recipe);                  // model, val scores, seconds
 *   const X = evaluationMatrix(prepared, prepared.test);                    // groups: tags, categories, …, image_statistics, image_embedding
 *   const predict = modelPredictFn(trained.model, { inputGroups: inputGroupsOf(trained.spec, X) });
 *   const head = embeddingLogitHead(trained.model, trained.spec, prepared, prepared.test);   // Grad-CAM { backbone, head }
 */
import * as tf from "@tensorflow/tfjs";
import { recordImage, transformFeatures, type PoiRecord } from "../poi";
import { embedImages, type Backbone } from "../engine";
import { hstack, type FeatureMatrix } from "../features";
import { augmentationPreset } from "../images";
import { applyEmbeddingTransform, embeddingTransformOf, type EmbeddingTransform } from "./embedding-transform";
import type { ExperimentData } from "./inputs";
import { prepareFold, singleSplit, type PartData, type PreparedFold } from "./protocol";
import { trainAndEvaluate } from "./cv";
import { getArchitecture, modelInputNames, withImageInputs, type ArchitectureSpec, type ImageInputs, type InputName } from "../models";
import { predictProba, accuracy, f1Macro, type History } from "../train";
import { trainTrialNetwork } from "./tuning-objective";
import type { TrainingRecipe } from "./best-run";

const IMAGE_INPUTS: readonly ImageInputs[] = ["none", "embedding", "stats", "embedding+stats"];

/** "Name" or "Name[image-inputs]" (lib/models' withImageInputs naming) → the architecture spec. */
export function architectureFromName(name: string): ArchitectureSpec {
  const match = /^(.*)\[([^\]]+)\]$/.exec(name);
  if (!match) return getArchitecture(name);
  const image = match[2] as ImageInputs;
  if (!IMAGE_INPUTS.includes(image)) throw new Error(`architecture "${name}": unknown image inputs "${match[2]}" (${IMAGE_INPUTS.join(", ")})`);
  return withImageInputs(getArchitecture(match[1]), image);
}

export interface PreparedEvaluation {
  data: ExperimentData;
  split: { train: number[]; val: number[]; test: number[] };
  /** Fitted on train; `fold.test` is the validation part. */
  fold: PreparedFold;
  val: PartData;
  /** The untouched test part (same fitted steps). */
  test: PartData;
  /** Raw backbone embedding → the model's embedding input, as fitted inside `fold` (for Grad-CAM and variants). */
  embeddingTransform?: EmbeddingTransform;
  /** Scaled augmented embeddings of the training rows, when the recipe used augmentation. */
  variants: Float32Array[];
}

/**
 * The report's single split and every fitted step (thresholds, encoders, KMeans, scalers) on its training rows, as
 * loadTuningData (tuning-objective.ts) does; with augmentation, the recipe's cached embedding variants (scaled the same way).
 */
export async function prepareEvaluation(data: ExperimentData, recipe: TrainingRecipe, options: { backbone?: Backbone } = {}): Promise<PreparedEvaluation> {
  const split = singleSplit(data.records, recipe.dataSeed);
  const prepare = recipe.embeddingComponents === undefined ? { seed: recipe.dataSeed } : { seed: recipe.dataSeed, embeddingComponents: recipe.embeddingComponents };
  const fold = prepareFold(data, split.train, split.val, prepare);
  const test = prepareFold(data, split.train, split.test, prepare).test;
  const embeddingTransform = data.embedding ? embeddingTransformOf(data.embedding, split.train, fold.pca) : undefined;
  let variants: Float32Array[] = [];
  if (recipe.augmentation !== "none") {
    if (!data.embedding || !embeddingTransform || !options.backbone) throw new Error(`recipe uses augmentation ${recipe.augmentation}: pass the backbone and load embeddings`);
    const emb = data.embedding;
    const files = split.train.map((i) => recordImage(data.dataDir, data.records[i]));
    const result = await embedImages({ backbone: options.backbone, files, augmentation: augmentationPreset(recipe.augmentation), variants: recipe.variants, seed: recipe.dataSeed, log: false });
    variants = result.variants.map((v) => applyEmbeddingTransform(embeddingTransform, { columns: emb.columns, rows: v.rows, data: v.data }));
  }
  return { data, split, fold, val: fold.test, test, embeddingTransform, variants };
}


/** The same transform on a tensor [batch, d] (differentiable; tensors are created per call inside a tidy). */
export function embeddingTransformTensor(t: EmbeddingTransform): { apply: (e: tf.Tensor) => tf.Tensor; dispose: () => void } {
  const mean = tf.tensor1d(Float32Array.from(t.scaler.mean));
  const std = tf.tensor1d(Float32Array.from(t.scaler.std));
  const pcaMean = t.pca ? tf.tensor1d(Float32Array.from(t.pca.mean)) : null;
  // components are k × d row-major: transposed to d × k for e·Cᵀ.
  const componentsT = t.pca ? tf.tensor2d(Float32Array.from(t.pca.components), [t.pca.k, t.pca.d]).transpose() : null;
  const apply = (e: tf.Tensor): tf.Tensor => {
    const z = pcaMean && componentsT ? tf.matMul(tf.sub(e, pcaMean) as tf.Tensor2D, componentsT as tf.Tensor2D) : e;
    return tf.div(tf.sub(z, mean), std);
  };
  return { apply, dispose: () => tf.dispose([mean, std, ...(pcaMean ? [pcaMean] : []), ...(componentsT ? [componentsT] : [])]) };
}

function widthOf(fold: PreparedFold, name: InputName): number {
  const w = name === "embedding" ? fold.dims.embedding : fold.dims[name];
  if (!w) throw new Error(`input "${name}" is missing from the prepared data (load embeddings?)`);
  return w;
}

function rowsOf(values: Float32Array, width: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * width);
  indices.forEach((r, i) => out.set(values.subarray(r * width, (r + 1) * width), i * width));
  return out;
}


/** A part's inputs as whole tensors in model order (caller disposes). */
export function partInputs(spec: ArchitectureSpec, fold: PreparedFold, part: PartData): tf.Tensor2D[] {
  return modelInputNames(spec).map((n) => tf.tensor2d(part.inputs[n]!, [part.indices.length, widthOf(fold, n)]));
}

export interface RetrainedModel {
  model: tf.LayersModel;
  spec: ArchitectureSpec;
  history: History;
  /** Scores on the validation part after the last epoch (compare with the tracked run's). */
  valAccuracy: number;
  valF1Macro: number;
  seconds: number;
}

/**
 * Build the recipe's network with its seed and train it on the training part exactly as the tracked run did:
 * the single-split protocol (cv.ts) (early stopping on validation) or a tuning trial (fixed epochs).
 */
export async function retrainRecipe(prepared: PreparedEvaluation, recipe: TrainingRecipe, options: { onEpoch?: (epoch: number, valF1: number | null) => void } = {}): Promise<RetrainedModel> {
  const spec = architectureFromName(recipe.architecture);
  const fold = prepared.fold;
  const started = performance.now();
  const labels = fold.classLabels.map((_, i) => i);
  if (recipe.protocol === "early-stopping") {
    if (recipe.augmentation !== "none") throw new Error("retrainRecipe: the early-stopping protocol trains without augmentation");
    // evaluateSingleSplit's call: the fold scored is train → test, validation watched for early stopping.
    const result = await trainAndEvaluate(spec, { ...fold, test: prepared.test }, {
      seed: recipe.seed,
      config: { epochs: recipe.epochs, batchSize: recipe.batchSize, optimizer: { name: "adamw", lr: recipe.lr, weightDecay: recipe.weightDecay }, labelSmoothing: recipe.labelSmoothing, dropout: recipe.dropout },
      validation: prepared.val,
      onEpoch: options.onEpoch ? (r) => options.onEpoch!(r.epoch, r.valF1Macro) : undefined,
    });
    const pred = (await predictSplit(result.model, spec, fold, prepared.val)).map(argmaxOf);
    return { model: result.model, spec, history: result.history, valAccuracy: accuracy(prepared.val.y, pred), valF1Macro: f1Macro(prepared.val.y, pred, labels), seconds: (performance.now() - started) / 1000 };
  }
  const { model, history } = await trainTrialNetwork(spec, fold, fold.train, prepared.val, prepared.variants, recipe, {
    onEpoch: options.onEpoch ? (r) => options.onEpoch!(r.epoch, r.valF1Macro) : undefined,
  });
  const pred = (await predictSplit(model, spec, fold, prepared.val)).map(argmaxOf);
  return { model, spec, history, valAccuracy: accuracy(prepared.val.y, pred), valF1Macro: f1Macro(prepared.val.y, pred, labels), seconds: (performance.now() - started) / 1000 };
}

function argmaxOf(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

/** Class probabilities of a part. */
export async function predictSplit(model: tf.LayersModel, spec: ArchitectureSpec, fold: PreparedFold, part: PartData): Promise<Float32Array[]> {
  const x = partInputs(spec, fold, part);
  try {
    return await predictProba(model, x.length === 1 ? x[0] : x);
  } finally {
    tf.dispose(x);
  }
}

export const STATISTICS_GROUP = "image_statistics";
export const EMBEDDING_GROUP = "image_embedding";

function block(group: string, prefix: string, width: number, values: Float32Array, rows: number): FeatureMatrix {
  const columns = Array.from({ length: width }, (_, j) => `${prefix}${j}`);
  return { columns, rows, data: values, groups: { [group]: columns } };
}

/**
 * A part's model inputs as one feature matrix with named groups: the metadata groups of the fitted pipeline
 * (tags, categories, tier, xps, location, coordinates), then "image_statistics" and "image_embedding" (scaled,
 * as the model sees them). Its column values are exactly the model's inputs.
 */
export function evaluationMatrix(prepared: PreparedEvaluation, part: PartData): FeatureMatrix {
  const records: PoiRecord[] = part.indices.map((i) => prepared.data.records[i]);
  const blocks: FeatureMatrix[] = [transformFeatures(prepared.fold.pipeline, records)];
  const n = part.indices.length;
  if (part.inputs.stats) blocks.push(block(STATISTICS_GROUP, "stat_", prepared.fold.dims.stats, part.inputs.stats, n));
  if (part.inputs.embedding && prepared.fold.dims.embedding) blocks.push(block(EMBEDDING_GROUP, "emb_", prepared.fold.dims.embedding, part.inputs.embedding, n));
  return hstack(blocks);
}

/** Metadata groups in column order (the "meta" input's layout). */
export function metadataGroups(X: FeatureMatrix): string[] {
  const first = (g: string) => X.columns.indexOf(X.groups[g][0]);
  return Object.keys(X.groups)
    .filter((g) => g !== STATISTICS_GROUP && g !== EMBEDDING_GROUP)
    .sort((a, b) => first(a) - first(b));
}

/** The model's inputs as lists of groups of `evaluationMatrix` (lib/eval's modelPredictFn `inputGroups`). */
export function inputGroupsOf(spec: ArchitectureSpec, X: FeatureMatrix): string[][] {
  return modelInputNames(spec).map((n) => (n === "meta" ? metadataGroups(X) : n === "stats" ? [STATISTICS_GROUP] : [EMBEDDING_GROUP]));
}

/** The groups the model reads (for permutation importance: groups it ignores would score 0 by construction). */
export function modelGroups(spec: ArchitectureSpec, X: FeatureMatrix): string[] {
  return inputGroupsOf(spec, X).flat();
}

/**
 * Grad-CAM head for lib/eval's `{ backbone, head }` target: the backbone's raw embedding → the training PCA/scaler →
 * the fusion network with the part's other inputs (rows chosen by the photo indices) → class logits (the output
 * layer's pre-softmax scores, computed from its weights so the explained score does not saturate).
 * Call `dispose()` when done.
 */
export function embeddingLogitHead(
  model: tf.LayersModel,
  spec: ArchitectureSpec,
  prepared: PreparedEvaluation,
  part: PartData,
  rows?: readonly number[],
): { head: (embedding: tf.Tensor, indices: readonly number[]) => tf.Tensor; dispose: () => void } {
  const names = modelInputNames(spec);
  if (!names.includes("embedding")) throw new Error(`model ${spec.name} has no image-embedding input: Grad-CAM through the backbone does not apply`);
  if (!prepared.embeddingTransform) throw new Error("embeddingLogitHead: the prepared data has no embedding transform (load embeddings)");
  const transform = embeddingTransformTensor(prepared.embeddingTransform);
  const pick = rows ?? part.indices.map((_, i) => i);
  const others = new Map<InputName, tf.Tensor2D>();
  for (const n of names) {
    if (n === "embedding") continue;
    const w = widthOf(prepared.fold, n);
    others.set(n, tf.tensor2d(rowsOf(part.inputs[n]!, w, pick), [pick.length, w]));
  }
  const output = model.layers[model.layers.length - 1] as tf.layers.Layer;
  const penultimate = tf.model({ inputs: model.inputs, outputs: output.input as tf.SymbolicTensor });
  const [kernel, bias] = output.getWeights();
  const head = (embedding: tf.Tensor, indices: readonly number[]): tf.Tensor => {
    const idx = tf.tensor1d(Array.from(indices), "int32");
    try {
      const inputs = names.map((n) => (n === "embedding" ? transform.apply(embedding) : tf.gather(others.get(n)!, idx)));
      const h = penultimate.apply(inputs, { training: false }) as tf.Tensor;
      return bias ? tf.add(tf.matMul(h, kernel), bias) : tf.matMul(h, kernel);
    } finally {
      idx.dispose();
    }
  };
  return { head, dispose: () => {
    tf.dispose([...others.values()]);
    transform.dispose();
  } };
}
