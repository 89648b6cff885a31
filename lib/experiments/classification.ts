/**
 * The any-dataset classification recipe: load a dataset from a path or a name, split it, turn its images into model
 * inputs once (pixels for a small CNN trained from scratch, or frozen MobileNetV2 embeddings), then train and evaluate
 * an N-class model (image only, metadata only, or both fused by concatenation) with everything fitted on the training
 * rows only. What `npm run train` and the any-dataset notebooks run.
 *
 *   const ds = await loadDataset("data/flowers");                                   // folder, .csv, IDX folder, fashion-mnist, poi:main-category
 *   const parts = splitDataset(ds, { seed: 0 });                                   // the source's train/test, else stratified (+grouped) 80/20
 *   const inputs = await prepareInputs(ds, { backbone: "small-cnn", imageSize: 64 }); // decoded / embedded once
 *   const result = await fitClassifier(inputs, parts, { epochs: 10, seed: 0 });     // accuracy, macro-F1, per-class F1, confusion
 *   const cv = await crossValidateClassifier(inputs, { folds: 5, seed: 0, epochs: 30 });   // grouped stratified k-fold
 *   summaryRow("baseline", result);                                                 // train/val/test accuracy, F1, precision, recall
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  decodePixelStack,
  fashionMnist,
  imageFolder,
  imageTable,
  isIdxFolder,
  labelsFor,
  selectClasses,
  type Dataset,
  type ImageCheck,
  type InvalidPolicy,
  type MetadataColumn,
  type PixelStack,
} from "../data";
import { embedImages, initEngine, loadMobileNetV2, resolveModelsDir, type Backbone } from "../engine";
import type { ImageInput } from "../data/images";
import { applyScaler, datasetKFold, type FittedScaler, fitMetadataEncoder, fitStandardScaler, transformMetadata, type DatasetParts, type RowMatrix } from "../features";
import { augmentationPreset, type ImageAugmentation } from "../images";
import { buildClassifier } from "../models";
import { poiDataset, type PoiTarget } from "../poi";
import { classificationReport, confusionMatrix, earlyStopping, fit, fitParams, logEvaluation, predictProba, trackingCallback, type BatchSource, type EpochRecord, type FitOptions, type History } from "../train";
import type { Run } from "../track";
import { createRng, mean, std } from "../util";

// ---------------------------------------------------------------- loading

export interface LoadDatasetOptions {
  /** Image tables: the image-path column and the class column. */
  imageColumn?: string;
  target?: string;
  /** Image tables: metadata columns (kinds detected). */
  metadata?: readonly (string | MetadataColumn)[];
  group?: string;
  split?: string;
  /** Keep these classes only, in this order. */
  classes?: readonly string[];
  onInvalid?: InvalidPolicy;
  check?: ImageCheck;
}

/**
 * A dataset from a path or a name: "fashion-mnist" (Debian's package), "poi:engagement" / "poi:main-category" (the
 * POI table), a folder with MNIST-layout IDX files, an image folder tree, or a .csv image table (needs imageColumn and
 * target).
 */
export async function loadDataset(source: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  let dataset: Dataset;
  if (source === "fashion-mnist") dataset = fashionMnist();
  else if (source.startsWith("poi:")) dataset = poiDataset({ target: source.slice(4) as PoiTarget });
  else if (source.toLowerCase().endsWith(".csv")) {
    if (!options.imageColumn || !options.target) throw new Error(`${source}: an image table needs imageColumn and target (--image-column, --target)`);
    return imageTable(source, { imageColumn: options.imageColumn, target: options.target, metadata: options.metadata, group: options.group, split: options.split, classes: options.classes, onInvalid: options.onInvalid, check: options.check });
  } else if (fs.existsSync(source) && fs.statSync(source).isDirectory() && isIdxFolder(source)) dataset = fashionMnist(path.resolve(source));
  else return imageFolder(source, { classes: options.classes, onInvalid: options.onInvalid, check: options.check });
  return options.classes ? selectClasses(dataset, options.classes) : dataset;
}

// ---------------------------------------------------------------- inputs, computed once per dataset

export type ClassifierBackbone = "small-cnn" | "mobilenet-v2";
export const CLASSIFIER_BACKBONES: readonly ClassifierBackbone[] = ["small-cnn", "mobilenet-v2"];

export interface PrepareInputsOptions {
  /** "small-cnn" (default): pixels for a CNN trained from scratch; "mobilenet-v2": frozen ImageNet embeddings; null: no image input. */
  backbone?: ClassifierBackbone | null;
  /** Augmentation preset (lib/images: none, A1–A4, …); with mobilenet-v2 it makes `variants` embedded copies. */
  augment?: string;
  /** small-cnn input side (default: the dataset's own size when fixed, else 64). */
  imageSize?: number;
  /** Augmented embedding copies per image for mobilenet-v2 (default 2). */
  variants?: number;
  seed?: number;
  /**
   * mobilenet-v2 with an augmentation: embed the augmented copies of these rows only (the training rows: the only
   * ones a model trains on); the other rows' copies are their clean embedding. Default: every row.
   */
  augmentRows?: readonly number[];
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface PreparedInputs {
  dataset: Dataset;
  backbone: ClassifierBackbone | null;
  augment: string;
  /** small-cnn: every item's pixels. */
  pixels?: PixelStack;
  /** mobilenet-v2: every item's embedding, and its augmented copies. */
  embedding?: RowMatrix;
  variants?: RowMatrix[];
}

/** Decode (small-cnn) or embed (mobilenet-v2) every item once; folds and experiments then index into it. */
export async function prepareInputs(dataset: Dataset, options: PrepareInputsOptions = {}): Promise<PreparedInputs> {
  const backbone = options.backbone === undefined ? "small-cnn" : options.backbone;
  const augment = options.augment ?? "none";
  if (augment !== "none") augmentationPreset(augment); // unknown names fail here, before any work
  const out: PreparedInputs = { dataset, backbone, augment: "none" };
  if (backbone === null) return { ...out, augment };
  if (dataset.items.some((item) => item.image === undefined)) throw new Error(`${dataset.name}: some items have no image; use backbone null for metadata only`);
  if (backbone === "small-cnn") {
    const shape = dataset.imageShape;
    const size = options.imageSize ?? (shape && shape.width === shape.height ? shape.width : 64);
    const channels = augment === "none" && shape?.channels === 1 ? 1 : 3;
    out.pixels = await decodePixelStack(dataset.items, { size, channels, onProgress: (d, t) => options.onProgress?.("decode", d, t) });
  } else {
    await initEngine();
    const clean = await embedImages({ backbone: await frozenMobileNetV2(), files: itemFiles(dataset), log: false, onProgress: (d, t) => options.onProgress?.("embed", d, t) });
    out.embedding = asRows(clean.embeddings);
    out.variants = [];
  }
  return withAugmentation(out, augment, options);
}

/**
 * The same prepared inputs under another augmentation preset: pixels are augmented on the fly, so only the name
 * changes; frozen embeddings get `variants` augmented copies of `augmentRows` (cached on disk by content), the other
 * rows' copies being their clean embedding. The clean inputs are shared, not recomputed.
 */
export async function withAugmentation(base: PreparedInputs, augment: string, options: Pick<PrepareInputsOptions, "variants" | "augmentRows" | "seed" | "onProgress"> = {}): Promise<PreparedInputs> {
  if (augment !== "none") augmentationPreset(augment);
  if (!base.embedding) return { ...base, augment };
  if (augment === "none" || (options.variants ?? 2) === 0) return { ...base, augment, variants: [] };
  const files = itemFiles(base.dataset);
  const rows = options.augmentRows ?? files.map((_, i) => i);
  const augmented = await embedImages({
    backbone: await frozenMobileNetV2(),
    files: rows.map((i) => files[i]),
    variants: options.variants ?? 2,
    augmentation: augmentationPreset(augment),
    seed: options.seed ?? 0,
    log: false,
    onProgress: (d, t) => options.onProgress?.(`embed ${augment}`, d, t),
  });
  const clean = base.embedding;
  const dim = clean.columns.length;
  const variants = augmented.variants.map((v) => {
    const data = Float32Array.from(clean.data);
    rows.forEach((row, k) => data.set(v.data.subarray(k * dim, (k + 1) * dim), row * dim));
    return { columns: clean.columns, rows: clean.rows, data };
  });
  return { ...base, augment, variants };
}

const loadedMobileNets = new Map<string, Promise<Backbone>>();
/**
 * The frozen ImageNet MobileNetV2 from the models folder, loaded once per process for this module's embeddings and
 * Grad-CAM (a grid loaded it again for every augmentation preset: the weights read from disk and kept in memory each
 * time). Only read, never trained.
 */
export function frozenMobileNetV2(): Promise<Backbone> {
  const dir = resolveModelsDir();
  let loaded = loadedMobileNets.get(dir);
  if (!loaded) {
    loaded = loadMobileNetV2();
    loadedMobileNets.set(dir, loaded);
    loaded.catch(() => loadedMobileNets.delete(dir));
  }
  return loaded;
}

/** The image file of every item, with its dataset row for error messages (mobilenet-v2 embeds files, cached by content). */
function itemFiles(dataset: Dataset): ImageInput[] {
  return dataset.items.map((item) => {
    if (item.imageIndex !== undefined) throw new Error(`${dataset.name}: mobilenet-v2 embeds image files (cached by content); this dataset's images sit inside ${item.image}; use small-cnn`);
    return { file: item.image!, source: dataset.source, row: item.row };
  });
}

function asRows(m: { rows: number; dim: number; data: Float32Array }): RowMatrix {
  return { columns: Array.from({ length: m.dim }, (_, j) => `emb_${j}`), rows: m.rows, data: m.data };
}

// ---------------------------------------------------------------- training and evaluation

/**
 * The small CNN's training schedule (`npm run train --backbone small-cnn`): on all 60 000 Fashion-MNIST training
 * images it reaches 0.903 test accuracy in 344 s of training on a quiet 2-core CPU (bench/README.md).
 */
export const SMALL_CNN_SCHEDULE = Object.freeze({ epochs: 8, batchSize: 128, lr: 1e-3 });

export interface ClassifierOptions {
  /** Use the dataset's metadata columns (default: true when it has any). */
  metadata?: boolean;
  /** Use the prepared image input (default: true when prepared). */
  image?: boolean;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** AdamW weight decay (0: Adam). */
  weightDecay?: number;
  dropout?: number;
  /** small-cnn convolution filters (default SMALL_CNN_FILTERS, lib/models). */
  filters?: readonly number[];
  /** Dense units of the image branch (default [64] on pixels, [128] on an embedding) and the metadata branch (default [64]); [] for a linear model. */
  imageUnits?: readonly number[];
  metaUnits?: readonly number[];
  classWeights?: "balanced";
  sampling?: "shuffle" | "balanced";
  focalGamma?: number;
  labelSmoothing?: number;
  /**
   * Keras' EarlyStopping on the validation rows (needs parts.val): stop after `patience` epochs without improvement
   * of `monitor` (default "val_f1_macro") and keep the best epoch's weights, so that the validation score reported
   * and logged describes the weights that are evaluated.
   */
  earlyStopping?: { patience: number; monitor?: "val_f1_macro" | "val_acc" | "val_loss" };
  seed?: number;
  /** MLflow-format run (lib/track) that receives the params, the per-epoch metrics and each scored split's report. */
  run?: Run;
  onEpoch?: (record: EpochRecord) => void;
  verbose?: 0 | 1;
}

/** A trained classifier with everything it was fitted with (training rows only): score or explain any rows with it. */
export interface FittedClassifier {
  prepared: PreparedInputs;
  classes: string[];
  model: tf.LayersModel;
  history: History;
  trainRows: number[];
  /** The epoch whose weights the model holds (the best validation epoch under early stopping, else the last). */
  epoch: number;
  /** Training time (fit only: no decoding, embedding or evaluation). */
  trainSeconds: number;
  /** Whether the model reads the image input / the metadata input. */
  usesImage: boolean;
  usesMetadata: boolean;
  /** The scaler fitted on the training rows' embeddings (mobilenet-v2), which the model's inputs went through. */
  embeddingScaler: FittedScaler | null;
  /** The model's inputs for these rows ([image?, meta?]; images as evaluated, not augmented). */
  inputsFor(rows: readonly number[]): tf.Tensor | tf.Tensor[];
  /** Labels of these rows (the dataset's, or fitted on the training rows for datasets that fit them). */
  labelsOf(rows: readonly number[]): Int32Array;
}

/** Scores of one part of the data (sklearn's definitions; macro averages over every class of the dataset). */
export interface ClassifierScores {
  rows: number[];
  accuracy: number;
  macroF1: number;
  macroPrecision: number;
  macroRecall: number;
  perClassF1: Record<string, number>;
  /** Rows true class, columns predicted. */
  confusion: number[][];
  /** sklearn's classification_report text. */
  report: string;
  labels: Int32Array;
  predictions: Int32Array;
  probabilities: Float32Array[];
}

/** Training, validation and test figures of one fit; the score fields (accuracy … report) are the test part's. */
export interface ClassificationResult extends Pick<ClassifierScores, "accuracy" | "macroF1" | "macroPrecision" | "macroRecall" | "perClassF1" | "confusion" | "report"> {
  classes: string[];
  nTrain: number;
  nVal: number;
  nTest: number;
  /** The evaluated weights on the training rows (not augmented). */
  trainAccuracy: number;
  /** The evaluated weights on the validation rows (null without validation rows). */
  valAccuracy: number | null;
  valMacroF1: number | null;
  testLabels: Int32Array;
  testPredictions: Int32Array;
  /** The epoch whose weights were evaluated. */
  epoch: number;
  /** Training time (fit only: no decoding, embedding or evaluation). */
  trainSeconds: number;
  history: History;
  model: tf.LayersModel;
}

interface Assembled {
  source: BatchSource;
  imageInput: boolean;
  metaInput: boolean;
}

/** Inputs of some rows as a BatchSource: [image?, meta?], the image augmented (pixels) or a random copy (embedding) when training. */
function assemble(inputs: PreparedInputs, rows: readonly number[], meta: Float32Array | null, metaDim: number, useImage: boolean, seed: number): Assembled {
  const root = createRng(seed).fork("inputs");
  const augmentation: ImageAugmentation | null = inputs.augment !== "none" && inputs.pixels ? augmentationPreset(inputs.augment) : null;
  const px = useImage ? inputs.pixels : undefined;
  const emb = useImage ? inputs.embedding : undefined;
  const source: BatchSource = {
    size: rows.length,
    batch(indices, ctx) {
      const out: tf.Tensor[] = [];
      if (px) {
        const per = px.size * px.size * px.channels;
        const data = new Float32Array(indices.length * per);
        indices.forEach((k, i) => {
          const item = rows[k];
          const bytes = px.data.subarray(item * per, (item + 1) * per);
          if (ctx.training && augmentation) {
            const image = augmentation.apply({ width: px.size, height: px.size, data: Float32Array.from(bytes) }, root.fork(`${ctx.epoch}:${item}`));
            for (let j = 0; j < per; j++) data[i * per + j] = image.data[j] / 255;
          } else for (let j = 0; j < per; j++) data[i * per + j] = bytes[j] / 255;
        });
        out.push(tf.tensor4d(data, [indices.length, px.size, px.size, px.channels]));
      } else if (emb) {
        const dim = emb.columns.length;
        const copies = [emb, ...(inputs.variants ?? [])];
        const data = new Float32Array(indices.length * dim);
        indices.forEach((k, i) => {
          const item = rows[k];
          const pick = ctx.training ? Math.floor(root.fork(`${ctx.epoch}:${item}`).next() * copies.length) : 0;
          data.set(copies[pick].data.subarray(item * dim, (item + 1) * dim), i * dim);
        });
        out.push(tf.tensor2d(data, [indices.length, dim]));
      }
      if (meta) {
        const data = new Float32Array(indices.length * metaDim);
        indices.forEach((k, i) => data.set(meta.subarray(k * metaDim, (k + 1) * metaDim), i * metaDim));
        out.push(tf.tensor2d(data, [indices.length, metaDim]));
      }
      return out.length === 1 ? out[0] : out;
    },
  };
  return { source, imageInput: !!(px || emb), metaInput: !!meta };
}

/** Standardise embeddings with a scaler fitted on the training rows (all copies through the same scaler). */
function scaledEmbeddings(inputs: PreparedInputs, train: readonly number[]): { inputs: PreparedInputs; scaler: FittedScaler | null } {
  if (!inputs.embedding) return { inputs, scaler: null };
  const scaler = fitStandardScaler(inputs.embedding, train);
  const all = Array.from({ length: inputs.embedding.rows }, (_, i) => i);
  const scale = (m: RowMatrix): RowMatrix => ({ columns: m.columns, rows: m.rows, data: applyScaler(scaler, m, all) });
  return { inputs: { ...inputs, embedding: scale(inputs.embedding), variants: (inputs.variants ?? []).map(scale) }, scaler };
}

/**
 * Train on parts.train, with per-epoch validation metrics (and early stopping, when asked) on parts.val; everything
 * fitted (metadata encoder, embedding scaler, labels where the dataset fits them) is fitted on parts.train only.
 */
export async function trainClassifier(prepared: PreparedInputs, parts: Pick<DatasetParts, "train" | "val">, options: ClassifierOptions = {}): Promise<FittedClassifier> {
  const { dataset } = prepared;
  const seed = options.seed ?? 0;
  if (parts.train.length === 0) throw new Error(`${dataset.name}: the split has no training rows`);
  if (options.earlyStopping && parts.val.length === 0) throw new Error(`${dataset.name}: early stopping needs validation rows (a valFraction in the split)`);
  const labels = labelsFor(dataset, parts.train);
  const useMeta = (options.metadata ?? true) && dataset.metadata.length > 0;
  const useImage = (options.image ?? true) && prepared.backbone !== null;
  if (!useMeta && !useImage) throw new Error(`${dataset.name}: no input left (no image backbone and no metadata columns)`);
  const { inputs, scaler } = scaledEmbeddings(prepared, parts.train);
  const encoder = useMeta ? fitMetadataEncoder(dataset.metadata, parts.train.map((i) => dataset.items[i]), { unknown: "zeros" }) : null;
  const metaOf = (rows: readonly number[]) => (encoder ? transformMetadata(encoder, rows.map((i) => dataset.items[i])).data : null);
  const metaDim = encoder ? encoder.outputColumns.length : 0;
  const part = (rows: readonly number[]) => assemble(inputs, rows, metaOf(rows), metaDim, useImage, seed).source;
  const labelsOf = (rows: readonly number[]) => Int32Array.from(rows, (i) => labels[i]);

  const image = !useImage
    ? undefined
    : inputs.pixels
      ? { kind: "pixels" as const, size: inputs.pixels.size, channels: inputs.pixels.channels, filters: options.filters, units: options.imageUnits }
      : { kind: "embedding" as const, dim: inputs.embedding!.columns.length, units: options.imageUnits };
  const model = buildClassifier({
    numClasses: dataset.classes.length,
    image,
    meta: useMeta ? { dim: metaDim, units: options.metaUnits } : undefined,
    dropout: options.dropout,
    seed,
  });
  const stopper = options.earlyStopping ? earlyStopping({ monitor: options.earlyStopping.monitor ?? "val_f1_macro", patience: options.earlyStopping.patience, restoreBestWeights: true }) : null;
  const fitOptions: FitOptions = {
    x: part(parts.train),
    y: labelsOf(parts.train),
    validation: parts.val.length > 0 ? { x: part(parts.val), y: labelsOf(parts.val) } : undefined,
    epochs: options.epochs ?? 10,
    batchSize: options.batchSize ?? 64,
    optimizer: options.weightDecay ? { name: "adamw", lr: options.lr ?? 1e-3, weightDecay: options.weightDecay } : { name: "adam", lr: options.lr ?? 1e-3 },
    loss: { labelSmoothing: options.labelSmoothing, focalGamma: options.focalGamma },
    classWeights: options.classWeights,
    sampling: options.sampling,
    callbacks: [...(stopper ? [stopper] : []), ...(options.run ? [trackingCallback(options.run)] : [])],
    seed,
    onEpoch: options.onEpoch,
    verbose: options.verbose ?? 0,
  };
  options.run?.logParams({
    ...fitParams(fitOptions),
    dataset: dataset.name,
    classes: dataset.classes.join(","),
    backbone: prepared.backbone ?? "none",
    augmentation: prepared.augment,
    image_input: useImage,
    metadata_input: useMeta,
    weight_decay: options.weightDecay ?? 0,
    sampling: options.sampling ?? "shuffle",
    focal_gamma: options.focalGamma ?? 0,
    early_stopping: options.earlyStopping ? `${options.earlyStopping.monitor ?? "val_f1_macro"}, patience ${options.earlyStopping.patience}` : "none",
    n_train: parts.train.length,
    n_val: parts.val.length,
  });
  const history = await fit(model, fitOptions);
  const epoch = stopper?.bestEpoch ?? history.records[history.records.length - 1]?.epoch ?? 0;
  options.run?.setTag("train.evaluated_epoch", String(epoch));
  const inputsFor = (rows: readonly number[]): tf.Tensor | tf.Tensor[] => part(rows).batch(rows.map((_, k) => k), { training: false, epoch: 0 });
  return { prepared, classes: dataset.classes.slice(), model, history, trainRows: parts.train.slice(), epoch, trainSeconds: history.seconds, usesImage: useImage, usesMetadata: useMeta, embeddingScaler: scaler, inputsFor, labelsOf };
}

/**
 * Score the fitted classifier on some rows (batch by batch); with a run, log `<split>_acc`, `<split>_f1_macro`, … and
 * the split's classification report and confusion matrix as artifacts (lib/train's logEvaluation).
 */
export async function scoreClassifier(fitted: FittedClassifier, rows: readonly number[], options: { split?: string; run?: Run; batchSize?: number } = {}): Promise<ClassifierScores> {
  const batchSize = options.batchSize ?? 512;
  const probabilities: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const x = fitted.inputsFor(rows.slice(start, start + batchSize));
    probabilities.push(...(await predictProba(fitted.model, x)));
    tf.dispose(x);
  }
  const labels = fitted.labelsOf(rows);
  const predictions = Int32Array.from(probabilities, (p) => argmax(p));
  const classIds = fitted.classes.map((_, c) => c);
  const report = classificationReport(labels, predictions, classIds, fitted.classes, 4);
  // "final_train_*", "final_val_*": the kept weights' scores, apart from the per-epoch train_* / val_* curves.
  if (options.run) logEvaluation(options.run, options.split ?? "eval", labels, predictions, fitted.classes, { metricPrefix: options.split === "test" ? "test" : `final_${options.split ?? "eval"}` });
  return {
    rows: rows.slice(),
    accuracy: report.accuracy ?? report.microAvg!["f1-score"],
    macroF1: report.macroAvg["f1-score"],
    macroPrecision: report.macroAvg.precision,
    macroRecall: report.macroAvg.recall,
    perClassF1: Object.fromEntries(fitted.classes.map((c) => [c, report.classes[c]["f1-score"]])),
    confusion: confusionMatrix(labels, predictions, classIds),
    report: report.text,
    labels,
    predictions,
    probabilities,
  };
}

/** Train on parts.train (validation on parts.val when it has rows), then score the kept weights on train, val and, once, test. */
export async function fitClassifier(prepared: PreparedInputs, parts: Pick<DatasetParts, "train" | "val" | "test">, options: ClassifierOptions = {}): Promise<ClassificationResult> {
  if (parts.test.length === 0) throw new Error(`${prepared.dataset.name}: the split has no test rows`);
  const fitted = await trainClassifier(prepared, parts, options);
  const train = await scoreClassifier(fitted, parts.train);
  const val = parts.val.length > 0 ? await scoreClassifier(fitted, parts.val, { split: "val", run: options.run }) : null;
  const test = await scoreClassifier(fitted, parts.test, { split: "test", run: options.run });
  return {
    classes: fitted.classes,
    nTrain: parts.train.length,
    nVal: parts.val.length,
    nTest: parts.test.length,
    trainAccuracy: train.accuracy,
    valAccuracy: val?.accuracy ?? null,
    valMacroF1: val?.macroF1 ?? null,
    accuracy: test.accuracy,
    macroF1: test.macroF1,
    macroPrecision: test.macroPrecision,
    macroRecall: test.macroRecall,
    perClassF1: test.perClassF1,
    confusion: test.confusion,
    report: test.report,
    testLabels: test.labels,
    testPredictions: test.predictions,
    epoch: fitted.epoch,
    trainSeconds: fitted.trainSeconds,
    history: fitted.history,
    model: fitted.model,
  };
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}

// ---------------------------------------------------------------- cross-validation and summaries

export interface CrossValidationResult {
  folds: Omit<ClassificationResult, "model" | "history">[];
  accuracy: { mean: number; std: number };
  macroF1: { mean: number; std: number };
  /** Per-class F1 averaged over folds. */
  perClassF1: Record<string, number>;
}

/** Grouped stratified k-fold: each fold trains on the other folds (everything fitted there) and is scored once. */
export async function crossValidateClassifier(prepared: PreparedInputs, options: ClassifierOptions & { folds?: number; onFold?: (fold: number, result: ClassificationResult) => void } = {}): Promise<CrossValidationResult> {
  const folds = datasetKFold(prepared.dataset, { k: options.folds ?? 5, seed: options.seed ?? 0 });
  const results: CrossValidationResult["folds"] = [];
  for (const [f, fold] of folds.entries()) {
    const result = await fitClassifier(prepared, { train: fold.train, val: [], test: fold.val }, options);
    options.onFold?.(f + 1, result);
    result.model.dispose();
    const { model: _model, history: _history, ...kept } = result;
    results.push(kept);
  }
  const stat = (values: number[]) => ({ mean: mean(values), std: values.length > 1 ? std(values, 0) : 0 });
  return {
    folds: results,
    accuracy: stat(results.map((r) => r.accuracy)),
    macroF1: stat(results.map((r) => r.macroF1)),
    perClassF1: Object.fromEntries(prepared.dataset.classes.map((c) => [c, mean(results.map((r) => r.perClassF1[c]))])),
  };
}

/** One row of the ODIR-style summary table. */
export interface SummaryRow {
  experiment: string;
  classes: number;
  train_accuracy: number;
  val_accuracy: number | null;
  test_accuracy: number;
  f1_macro: number;
  precision_macro: number;
  recall_macro: number;
}

export function summaryRow(experiment: string, result: ClassificationResult): SummaryRow {
  return {
    experiment,
    classes: result.classes.length,
    train_accuracy: result.trainAccuracy,
    val_accuracy: result.valAccuracy,
    test_accuracy: result.accuracy,
    f1_macro: result.macroF1,
    precision_macro: result.macroPrecision,
    recall_macro: result.macroRecall,
  };
}
