/**
 * One tuning trial of a fusion network: build, train on the report's training split, score on its validation
 * split, one tracked run per trial. Everything expensive (embeddings, augmented embeddings, fitted encoders and
 * scalers) is prepared once in `loadTuningData`, so a trial only trains a small network on cached vectors.
 */
import * as tf from "@tensorflow/tfjs";
import { recordImage } from "../poi";
import { loadMobileNetV2, embedImages, initEngine } from "../engine";
import { augmentationPreset } from "../images";
import { applyEmbeddingTransform, embeddingTransformOf } from "./embedding-transform";
import { loadExperimentData, type ExperimentData } from "./inputs";
import { prepareFold, singleSplit, type PartData, type PreparedFold } from "./protocol";
import { buildModel, getArchitecture, modelInputNames, type ArchitectureSpec } from "../models";
import { fit, freezeLayers, epochMetrics, type BatchSource, type EpochRecord, type History } from "../train";
import { startRun, type Run } from "../track";
import { TrialPruned, type Trial } from "../tune";
import { createRng } from "../util";

export interface TuningData {
  experiment: ExperimentData;
  seed: number;
  /** Preprocessors fitted on the training rows; `fold.test` is the validation part. The test part is not loaded:
   * only notebook 07 scores it, once, for the chosen model. */
  fold: PreparedFold;
  /** Per augmentation preset: K augmented embeddings of every training photo, scaled like the clean ones. */
  variants: Record<string, Float32Array[]>;
  /** Params describing the data, logged with every run. */
  dataParams: Record<string, string | number>;
}

export interface LoadTuningOptions {
  /** Split seed (the report's single split; notebooks use 42). */
  seed?: number;
  /** Augmentation presets whose cached variants to load (lib/images presets, e.g. ["A1", "A2"]). */
  presets?: readonly string[];
  /** Augmented variants per training photo and preset (notebook 04 caches K = 2). */
  variants?: number;
  log?: boolean;
}

/** Records, image statistics, MobileNetV2 embeddings (clean and augmented, from lib/engine's cache) and the fitted split. */
export async function loadTuningData(options: LoadTuningOptions = {}): Promise<TuningData> {
  const seed = options.seed ?? 42;
  const k = options.variants ?? 2;
  await initEngine();
  const backbone = await loadMobileNetV2();
  const experiment = await loadExperimentData({ embeddings: true, backbone, log: options.log ?? false });
  const split = singleSplit(experiment.records, seed);
  const fold = prepareFold(experiment, split.train, split.val, { seed });
  const emb = experiment.embedding!;
  // Augmented embeddings go through exactly the fold's fitted steps (train-fitted PCA, then scaler), so they have the
  // model's embedding width.
  const transform = embeddingTransformOf(emb, split.train, fold.pca);
  const trainFiles = split.train.map((i) => recordImage(experiment.dataDir, experiment.records[i]));
  const variants: Record<string, Float32Array[]> = {};
  for (const preset of options.presets ?? []) {
    const result = await embedImages({ backbone, files: trainFiles, augmentation: augmentationPreset(preset), variants: k, seed, log: options.log ?? false });
    variants[preset] = result.variants.map((v) => applyEmbeddingTransform(transform, { columns: emb.columns, rows: v.rows, data: v.data }));
  }
  return {
    experiment,
    seed,
    fold,
    variants,
    dataParams: {
      data_seed: seed,
      target: "M2",
      split: "grouped-stratified single split",
      n_train: fold.train.indices.length,
      n_val: fold.test.indices.length,
      n_test: split.test.length,
      backbone: emb.backbone,
      augmented_variants: k,
    },
  };
}

function rowsOf(values: Float32Array, width: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * width);
  indices.forEach((r, i) => out.set(values.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

/**
 * The inputs of `spec` for a part, in model order. When `variants` are given, a training batch reads, per sample
 * and epoch, one of its augmented embeddings (seeded by (seed, epoch)); evaluation always reads the clean one.
 */
export function partSource(spec: ArchitectureSpec, fold: PreparedFold, part: PartData, variants: readonly Float32Array[] = [], seed = 0): BatchSource {
  const names = modelInputNames(spec);
  const widths = names.map((n) => (n === "embedding" ? fold.dims.embedding : fold.dims[n]) ?? 0);
  names.forEach((n, i) => {
    if (!part.inputs[n] || !widths[i]) throw new Error(`model ${spec.name} needs input "${n}", which the tuning data lacks`);
  });
  const embeddingWidth = fold.dims.embedding ?? 0;
  variants.forEach((v, k) => {
    if (v.length !== part.indices.length * embeddingWidth) {
      throw new Error(`augmented embedding variant ${k} has ${v.length} values, expected ${part.indices.length} rows × ${embeddingWidth} (the fold's embedding width)`);
    }
  });
  const picks = new Map<number, Uint8Array>();
  const pickOf = (epoch: number): Uint8Array => {
    let p = picks.get(epoch);
    if (!p) {
      const rng = createRng(seed).fork(`variants:${epoch}`);
      p = Uint8Array.from({ length: part.indices.length }, () => rng.int(variants.length));
      picks.set(epoch, p);
    }
    return p;
  };
  return {
    size: part.indices.length,
    batch(indices, ctx) {
      return names.map((n, j) => {
        const w = widths[j];
        if (n === "embedding" && ctx.training && variants.length > 0) {
          const pick = pickOf(ctx.epoch);
          const out = new Float32Array(indices.length * w);
          indices.forEach((r, i) => out.set(variants[pick[r]].subarray(r * w, (r + 1) * w), i * w));
          return tf.tensor2d(out, [indices.length, w]);
        }
        return tf.tensor2d(rowsOf(part.inputs[n]!, w, indices), [indices.length, w]);
      });
    },
  };
}

export interface FusionTrialConfig {
  /** A lib/models architecture name. */
  model: string;
  dropout: number;
  /** Keep the first N weighted layers of the network at their seeded initial weights (lib/train freezeLayers); 0 = none. */
  freezeLayers: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  labelSmoothing: number;
  /** "none" or a preset whose variants were loaded. */
  augmentation: string;
  /** Weight initialisation, shuffling and dropout seed. */
  seed: number;
}

/** The seeds' training options (cv.ts' DEFAULT_TRAIN_CONFIG) with the report's final model. */
export const BASE_TRIAL_CONFIG: Readonly<FusionTrialConfig> = Object.freeze({
  model: "NetEngagementPOIFinal",
  dropout: 0.3,
  freezeLayers: 0,
  epochs: 15,
  batchSize: 32,
  lr: 1e-3,
  weightDecay: 1e-4,
  labelSmoothing: 0.05,
  augmentation: "none",
  seed: 42,
});

/** The fusion types notebook 06's broad study chooses among, and the lib/models architecture of each. */
export const BROAD_FUSION_MODELS: Readonly<Record<string, string>> = Object.freeze({ concat: "FusionConcat", gated: "FusionGated", attention: "FusionAttention" });
/** The broad study's median pruner: after 5 complete trials, from the 4th epoch. */
export const BROAD_PRUNER_OPTIONS = Object.freeze({ nStartupTrials: 5, nWarmupSteps: 3 });

/**
 * Notebook 06's broad study: six hyper-parameters (lr, weight decay, label smoothing, dropout, augmentation preset,
 * fusion type), 10 epochs at batch 32. One definition for the notebook and `npm run tune:worker`, so that workers on
 * other machines suggest exactly the same distributions (Optuna refuses a parameter whose kind changes in a study).
 */
export function suggestBroadConfig(trial: Trial, presets: readonly string[]): FusionTrialConfig {
  return {
    ...BASE_TRIAL_CONFIG,
    lr: trial.suggestFloat("lr", 1e-4, 1e-2, { log: true }),
    weightDecay: trial.suggestFloat("weight_decay", 1e-6, 1e-2, { log: true }),
    labelSmoothing: trial.suggestFloat("label_smoothing", 0, 0.2),
    dropout: trial.suggestFloat("dropout_rate", 0.05, 0.5),
    augmentation: trial.suggestCategorical("augmentation", ["none", ...presets]),
    model: BROAD_FUSION_MODELS[trial.suggestCategorical("fusion", Object.keys(BROAD_FUSION_MODELS))],
    epochs: 10,
    batchSize: 32,
  };
}

export interface TrialRunOptions {
  /** The study trial: every epoch's validation macro-F1 is reported to it and its pruner may stop the run. */
  trial?: Trial;
  /** Track the run (experiment, name, tags); without it nothing is logged. */
  track?: { experiment: string; runName: string; tags?: Record<string, string> };
  /** Override the architecture (e.g. another fusion kind). */
  spec?: ArchitectureSpec;
}

export interface FusionTrialResult {
  /** Validation macro-F1 and accuracy after the last epoch: the objective. */
  valF1: number;
  valAcc: number;
  epochs: number;
  seconds: number;
  params: number;
  runId?: string;
}

/** Config → run params (flat, MLflow-friendly). */
export function trialParams(config: FusionTrialConfig): Record<string, string | number> {
  return {
    model: config.model,
    dropout_rate: config.dropout,
    freeze_layers: config.freezeLayers,
    epochs: config.epochs,
    batch_size: config.batchSize,
    optimizer: "adamw",
    lr: config.lr,
    weight_decay: config.weightDecay,
    label_smoothing: config.labelSmoothing,
    augmentation: config.augmentation,
    seed: config.seed,
  };
}

/** What trains a trial's network: a FusionTrialConfig's fields, or a tracked run's recipe (best-run.ts). */
export type TrialTraining = Pick<FusionTrialConfig, "seed" | "dropout" | "freezeLayers" | "epochs" | "batchSize" | "lr" | "weightDecay" | "labelSmoothing">;

/**
 * Build `spec` with the config's seed and dropout, freeze its first layers, and train it on `train` (plus the cached
 * augmented `variants`) with AdamW, watching `validation` after each epoch: the one recipe that the trials of
 * notebook 06 and their retraining in notebook 07 share. The caller owns the model; if training throws, it is
 * disposed here.
 */
export async function trainTrialNetwork(
  spec: ArchitectureSpec,
  fold: PreparedFold,
  train: PartData,
  validation: PartData,
  variants: readonly Float32Array[],
  config: TrialTraining,
  hooks: { onBuilt?: (model: tf.LayersModel) => void; onEpoch?: (record: EpochRecord) => void } = {},
): Promise<{ model: tf.LayersModel; history: History }> {
  const model = buildModel(spec, fold.dims, { seed: config.seed, dropout: config.dropout, numClasses: fold.classLabels.length });
  try {
    if (config.freezeLayers > 0) freezeLayers(model, config.freezeLayers);
    hooks.onBuilt?.(model);
    const history = await fit(model, {
      x: partSource(spec, fold, train, variants, config.seed),
      y: train.y,
      validation: { x: partSource(spec, fold, validation), y: validation.y },
      epochs: config.epochs,
      batchSize: config.batchSize,
      optimizer: { name: "adamw", lr: config.lr, weightDecay: config.weightDecay },
      loss: { labelSmoothing: config.labelSmoothing },
      seed: config.seed,
      verbose: 0,
      onEpoch: hooks.onEpoch,
    });
    return { model, history };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Train one configuration and return its validation scores. With a `trial`, each epoch's validation macro-F1 is
 * reported (step = epoch) and a pruned trial throws TrialPruned (its run ends KILLED); any other error ends it FAILED.
 */
export async function runFusionTrial(data: TuningData, config: FusionTrialConfig, options: TrialRunOptions = {}): Promise<FusionTrialResult> {
  const spec = options.spec ?? getArchitecture(config.model);
  const variants = config.augmentation === "none" ? [] : data.variants[config.augmentation];
  if (!variants) throw new Error(`augmentation "${config.augmentation}": no cached variants loaded (loadTuningData({ presets: [...] }))`);
  const fold = data.fold;
  const started = performance.now();
  const run: Run | undefined = options.track
    ? startRun({ experiment: options.track.experiment, runName: options.track.runName, tags: options.track.tags })
    : undefined;
  run?.logParams({ ...data.dataParams, ...trialParams(config), architecture: spec.name, fusion: spec.fusion, image_inputs: spec.image, backend: tf.getBackend() });
  let trainable = 0;
  let model: tf.LayersModel | null = null;
  try {
    const trained = await trainTrialNetwork(spec, fold, fold.train, fold.test, variants, config, {
      onBuilt: (built) => {
        trainable = built.trainableWeights.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
        run?.logParam("trainable_params", trainable);
      },
      onEpoch: (record) => {
        run?.logMetrics(epochMetrics(record), record.epoch);
        if (options.trial && record.valF1Macro !== null) {
          options.trial.report(record.valF1Macro, record.epoch);
          if (options.trial.shouldPrune()) throw new TrialPruned(`pruned at epoch ${record.epoch} (val macro-F1 ${record.valF1Macro.toFixed(3)})`);
        }
      },
    });
    model = trained.model;
    const history = trained.history;
    const last = history.records[history.records.length - 1];
    const result: FusionTrialResult = {
      valF1: last.valF1Macro ?? NaN,
      valAcc: last.valAcc ?? NaN,
      epochs: history.records.length,
      seconds: (performance.now() - started) / 1000,
      params: trainable,
      runId: run?.runId,
    };
    run?.logMetrics({ final_val_f1_macro: result.valF1, final_val_acc: result.valAcc, trial_seconds: result.seconds });
    run?.endRun("FINISHED");
    return result;
  } catch (error) {
    if (run) {
      run.setTag("trial.outcome", error instanceof TrialPruned ? "pruned" : "failed");
      run.setTag("trial.reason", error instanceof Error ? error.message : String(error));
      run.endRun(error instanceof TrialPruned ? "KILLED" : "FAILED");
    }
    throw error;
  } finally {
    model?.dispose();
  }
}
