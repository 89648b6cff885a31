/**
 * Train and evaluate a named model under the protocol: grouped k-fold CV (mean ± std over folds) and the single
 * 72/13/15 split of the report.
 *
 *   const data = await loadExperimentData({ embeddings: true });
 *   const cv = await crossValidate(data, "FusionConcat", { folds: 5, seed: 1 });
 *   cv.accuracyMean, cv.accuracyStd, cv.macroF1Mean, cv.macroF1Std, cv.perFold
 *   const split = await evaluateSingleSplit(data, "FusionConcat", { seed: 42 });   // history for the curves
 */
import * as tf from "@tensorflow/tfjs";
import { mean, std } from "../util";
import { buildModel, countTrainableParams, getArchitecture, modelInputNames, type ArchitectureSpec } from "../models";
import { fit, predictProba, accuracy, f1Macro, confusionMatrix, earlyStopping, reduceLROnPlateau, type Callback, type EpochRecord, type History, type OptimizerSpec } from "../train";
import type { ExperimentData } from "./inputs";
import { cvFolds, leakWarning, prepareFold, singleSplit, type PartData, type PreparedFold, type PrepareOptions } from "./protocol";

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSpec;
  labelSmoothing: number;
  dropout: number;
  classWeights?: "balanced";
}

/** The seeds' training options: AdamW lr 1e-3, weight decay 1e-4, batch 32, 15 epochs, dropout 0.3, label smoothing 0.05. */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  epochs: 15,
  batchSize: 32,
  optimizer: { name: "adamw" as const, lr: 1e-3, weightDecay: 1e-4 },
  labelSmoothing: 0.05,
  dropout: 0.3,
});

/** Linear baselines: softmax regression needs a larger step and more passes to converge. */
export const LINEAR_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  epochs: 40,
  batchSize: 64,
  optimizer: { name: "adamw" as const, lr: 1e-2, weightDecay: 1e-3 },
  labelSmoothing: 0,
  dropout: 0,
});

export function defaultTrainConfig(spec: ArchitectureSpec): TrainConfig {
  const base = spec.kind === "linear" ? LINEAR_TRAIN_CONFIG : DEFAULT_TRAIN_CONFIG;
  return { ...base, optimizer: { ...base.optimizer } };
}

function needsEmbedding(spec: ArchitectureSpec): boolean {
  return modelInputNames(spec).includes("embedding");
}

/** Tensors of a part in the model's input order (caller disposes). */
export function partTensors(spec: ArchitectureSpec, fold: PreparedFold, part: PartData): tf.Tensor2D[] {
  return modelInputNames(spec).map((name) => {
    const values = part.inputs[name];
    const width = name === "embedding" ? fold.dims.embedding : fold.dims[name];
    if (!values || !width) throw new Error(`model ${spec.name} needs input "${name}", which this experiment data lacks (load embeddings?)`);
    return tf.tensor2d(values, [part.indices.length, width]);
  });
}

export interface FoldResult {
  fold: number;
  accuracy: number;
  macroF1: number;
  trainRows: number;
  testRows: number;
  epochs: number;
  seconds: number;
  confusion: number[][];
  history: EpochRecord[];
  /** Thresholds of the M2 tertiles fitted on this fold's training rows. */
  thresholds: number[];
  /** Row indices (into data.records) of this fold's test rows, and the class predicted for each. */
  testIndices: number[];
  predictions: number[];
  /** The classes the fold's fitted target gave those rows. */
  truth: number[];
}

export interface TrainEvalOptions {
  seed: number;
  config?: Partial<TrainConfig>;
  /** Early stopping (patience 5) + ReduceLROnPlateau on this part; only for the single split (never the test part). */
  validation?: PartData;
  onEpoch?: (record: EpochRecord) => void;
  callbacks?: Callback[];
}

export interface TrainEvalResult {
  model: tf.LayersModel;
  history: History;
  /**
   * Scores on the watched validation part of the weights that are returned (after early stopping restored its best
   * epoch), so a logged validation score always describes the evaluated model.
   */
  validation?: { accuracy: number; macroF1: number };
  accuracy: number;
  macroF1: number;
  predictions: number[];
  confusion: number[][];
  params: number;
  seconds: number;
}

/** Build, train on fold.train (optionally watching a validation part) and evaluate on fold.test. Caller disposes `model`. */
export async function trainAndEvaluate(specOrName: ArchitectureSpec | string, fold: PreparedFold, options: TrainEvalOptions): Promise<TrainEvalResult> {
  const spec = typeof specOrName === "string" ? getArchitecture(specOrName) : specOrName;
  const config = { ...defaultTrainConfig(spec), ...options.config };
  const started = performance.now();
  const model = buildModel(spec, fold.dims, { seed: options.seed, dropout: config.dropout, numClasses: fold.classLabels.length });
  const x = partTensors(spec, fold, fold.train);
  const testX = partTensors(spec, fold, fold.test);
  const valX = options.validation ? partTensors(spec, fold, options.validation) : undefined;
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if (valX) {
    callbacks.push(earlyStopping({ monitor: "val_loss", patience: 5, restoreBestWeights: true }));
    callbacks.push(reduceLROnPlateau({ monitor: "val_loss", factor: 0.5, patience: 2 }));
  }
  try {
    const history = await fit(model, {
      x,
      y: fold.train.y,
      validation: valX && options.validation ? { x: valX, y: options.validation.y } : undefined,
      epochs: config.epochs,
      batchSize: config.batchSize,
      optimizer: config.optimizer,
      loss: { labelSmoothing: config.labelSmoothing },
      classWeights: config.classWeights,
      seed: options.seed,
      verbose: 0,
      callbacks,
      onEpoch: options.onEpoch,
    });
    const predictions = (await predictProba(model, testX)).map(argmax);
    const labels = fold.classLabels.map((_, i) => i);
    let validation: TrainEvalResult["validation"];
    if (valX && options.validation) {
      const valPredictions = (await predictProba(model, valX)).map(argmax);
      validation = { accuracy: accuracy(options.validation.y, valPredictions), macroF1: f1Macro(options.validation.y, valPredictions, labels) };
    }
    return {
      model,
      history,
      validation,
      accuracy: accuracy(fold.test.y, predictions),
      macroF1: f1Macro(fold.test.y, predictions, labels),
      predictions,
      confusion: confusionMatrix(fold.test.y, predictions, labels),
      params: countTrainableParams(model),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    tf.dispose([...x, ...testX, ...(valX ?? [])]);
  }
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

export interface CvOptions {
  folds?: number;
  seed?: number;
  config?: Partial<TrainConfig>;
  prepare?: Omit<PrepareOptions, "seed">;
  /** Called after each fold. */
  onFold?: (result: FoldResult) => void;
  onEpoch?: (fold: number, record: EpochRecord) => void;
}

export interface CvResult {
  model: string;
  folds: number;
  seed: number;
  accuracyMean: number;
  accuracyStd: number;
  macroF1Mean: number;
  macroF1Std: number;
  perFold: FoldResult[];
  params: number;
  seconds: number;
  /** Set when the mean accuracy is suspiciously high (see LEAK_ACCURACY). */
  warning?: string;
}

function checkInputs(data: ExperimentData, spec: ArchitectureSpec): void {
  if (needsEmbedding(spec) && !data.embedding) {
    throw new Error(`model ${spec.name} reads backbone embeddings: load them with loadExperimentData({ embeddings: true })`);
  }
}

/** Grouped stratified k-fold CV: every fitted step (thresholds, encoders, scalers) fitted on the training folds only. */
export async function crossValidate(data: ExperimentData, specOrName: ArchitectureSpec | string, options: CvOptions = {}): Promise<CvResult> {
  const spec = typeof specOrName === "string" ? getArchitecture(specOrName) : specOrName;
  checkInputs(data, spec);
  const k = options.folds ?? 5;
  const seed = options.seed ?? 0;
  const started = performance.now();
  const folds = cvFolds(data.records, { folds: k, seed });
  const perFold: FoldResult[] = [];
  let params = 0;
  for (let f = 0; f < folds.length; f++) {
    const fold = prepareFold(data, folds[f].train, folds[f].val, { seed: seed * 1000 + f, ...options.prepare });
    const result = await trainAndEvaluate(spec, fold, {
      seed: seed * 1000 + f,
      config: options.config,
      onEpoch: options.onEpoch ? (r) => options.onEpoch!(f, r) : undefined,
    });
    params = result.params;
    result.model.dispose();
    const fr: FoldResult = {
      fold: f,
      accuracy: result.accuracy,
      macroF1: result.macroF1,
      trainRows: fold.train.indices.length,
      testRows: fold.test.indices.length,
      epochs: result.history.records.length,
      seconds: result.seconds,
      confusion: result.confusion,
      history: result.history.records,
      thresholds: fold.target.bins.thresholds.slice(),
      testIndices: fold.test.indices.slice(),
      predictions: result.predictions,
      truth: fold.test.y.slice(),
    };
    perFold.push(fr);
    options.onFold?.(fr);
  }
  const accs = perFold.map((r) => r.accuracy);
  const f1s = perFold.map((r) => r.macroF1);
  const accuracyMean = mean(accs);
  return {
    model: spec.name,
    folds: k,
    seed,
    accuracyMean,
    accuracyStd: std(accs, 0),
    macroF1Mean: mean(f1s),
    macroF1Std: std(f1s, 0),
    perFold,
    params,
    seconds: (performance.now() - started) / 1000,
    warning: leakWarning(accuracyMean, `${spec.name} CV`),
  };
}

export interface SplitScores {
  accuracy: number;
  macroF1: number;
  confusion: number[][];
}

export interface SingleSplitResult {
  model: string;
  seed: number;
  /** The returned weights (best epoch by validation loss, restored) scored on the validation part. */
  validation: SplitScores;
  /** Only when asked for (`scoreTest: true`): the test part is for the one chosen model, scored once. */
  test?: SplitScores;
  history: EpochRecord[];
  stopReason?: string;
  params: number;
  seconds: number;
  sizes: { train: number; val: number; test: number };
  classLabels: string[];
  warning?: string;
}

/**
 * The report's protocol: one grouped stratified split (train / val / test), preprocessors and thresholds fitted on
 * train, early stopping + ReduceLROnPlateau on val. Scores describe the returned weights; the test part is scored
 * only with `scoreTest` (for the chosen model, once).
 */
export async function evaluateSingleSplit(
  data: ExperimentData,
  specOrName: ArchitectureSpec | string,
  options: { seed?: number; config?: Partial<TrainConfig>; onEpoch?: (record: EpochRecord) => void; callbacks?: Callback[]; keepModel?: boolean; scoreTest?: boolean } = {},
): Promise<SingleSplitResult & { trained?: tf.LayersModel }> {
  const spec = typeof specOrName === "string" ? getArchitecture(specOrName) : specOrName;
  checkInputs(data, spec);
  const seed = options.seed ?? 42;
  const split = singleSplit(data.records, seed);
  const trainVal = prepareFold(data, split.train, split.val, { seed });
  const result = await trainAndEvaluate(spec, trainVal, {
    seed,
    config: options.config,
    validation: trainVal.test,
    onEpoch: options.onEpoch,
    callbacks: options.callbacks,
  });
  let test: SplitScores | undefined;
  try {
    if (options.scoreTest) {
      const testPart = prepareFold(data, split.train, split.test, { seed }).test;
      const x = partTensors(spec, trainVal, testPart);
      const predictions = (await predictProba(result.model, x)).map(argmax);
      tf.dispose(x);
      const labels = trainVal.classLabels.map((_, i) => i);
      test = { accuracy: accuracy(testPart.y, predictions), macroF1: f1Macro(testPart.y, predictions, labels), confusion: confusionMatrix(testPart.y, predictions, labels) };
    }
  } finally {
    if (!options.keepModel) result.model.dispose();
  }
  return {
    model: spec.name,
    seed,
    validation: { accuracy: result.accuracy, macroF1: result.macroF1, confusion: result.confusion },
    test,
    history: result.history.records,
    stopReason: result.history.stopReason,
    params: result.params,
    seconds: result.seconds,
    sizes: { train: split.train.length, val: split.val.length, test: split.test.length },
    classLabels: trainVal.classLabels,
    warning: leakWarning(test?.accuracy ?? result.accuracy, `${spec.name} single split`),
    trained: options.keepModel ? result.model : undefined,
  };
}
