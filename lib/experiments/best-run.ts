/**
 * Choosing the final model from the tracked runs, and reading back how it was trained.
 *
 * The choice uses validation or cross-validation scores only: a key that starts with "test" is refused, so the
 * test split stays untouched until the final evaluation. Scores from different protocols (one validation split,
 * k-fold CV) are not comparable, so all candidates are ranked by the first selection key that any of them logged;
 * runs without that key are left out of the ranking (and listed as such).
 */
import { searchRuns, type RunSummary } from "../track";

/**
 * Selection keys in order of preference: the validation macro-F1 of the report's single split as a run's final,
 * evaluated weights score it (notebooks 05 and 06 alike log it, so their runs compete on the same rows; for an
 * early-stopped run that is the restored best epoch, not the last one), then CV macro-F1 means. The per-epoch
 * `val_f1_macro` curve is not a selection key: its last value need not describe the weights that were kept.
 */
export const SELECTION_KEYS: readonly string[] = ["final_val_f1_macro", "cv_f1_macro_mean", "cv_macro_f1_mean", "macro_f1_mean"];

/** CV spread logged next to a mean key, if any ("cv_f1_macro_mean" → "cv_f1_macro_std"). */
export function stdKeyOf(key: string): string | null {
  return key.endsWith("_mean") ? `${key.slice(0, -"_mean".length)}_std` : null;
}

export interface ChosenRun {
  run: RunSummary;
  /** The metric the runs were ranked by, its value for the chosen run (and its CV std when logged). */
  key: string;
  value: number;
  std: number | null;
  /** FINISHED runs found in the experiments, and how many of them had `key`. */
  candidates: number;
  ranked: number;
  experiments: string[];
  /** The ranked runs, best first (for a table). */
  ranking: RunSummary[];
}

export interface ChooseOptions {
  /** Selection keys in order of preference (default SELECTION_KEYS). */
  keys?: readonly string[];
  /** Runs to consider (default: every FINISHED run of the experiments). */
  filter?: (run: RunSummary) => boolean;
  /** Tracking root (default lib/track's). */
  root?: string;
}

/** The best FINISHED run of the experiments by a validation/CV metric; a clear error when there is none. */
export function chooseBestRun(experiments: readonly string[], options: ChooseOptions = {}): ChosenRun {
  const keys = options.keys ?? SELECTION_KEYS;
  for (const key of keys) {
    if (/^test/i.test(key)) throw new Error(`chooseBestRun: "${key}" is a test-split metric; choose on validation or CV scores only`);
  }
  const all = experiments.flatMap((experiment) => searchRuns({ experiment, status: "FINISHED", root: options.root }));
  const candidates = options.filter ? all.filter(options.filter) : all;
  if (candidates.length === 0) {
    throw new Error(
      `chooseBestRun: no FINISHED tracked run in experiment(s) ${experiments.join(", ")}` +
        ` (tracking store ${options.root ?? "outputs/mlruns"}). Run the notebooks that train them first (npm start runs 01→07 in order).`,
    );
  }
  const key = keys.find((k) => candidates.some((r) => Number.isFinite(r.metrics[k])));
  if (key === undefined) {
    throw new Error(`chooseBestRun: none of the ${candidates.length} FINISHED runs in ${experiments.join(", ")} logged a selection metric (${keys.join(", ")})`);
  }
  // Stable order: value, then earlier start, then run id, so ties resolve the same way on every machine.
  const ranking = candidates
    .filter((r) => Number.isFinite(r.metrics[key]))
    .sort((a, b) => b.metrics[key] - a.metrics[key] || (a.startTime ?? 0) - (b.startTime ?? 0) || a.runId.localeCompare(b.runId));
  const run = ranking[0];
  const stdKey = stdKeyOf(key);
  const std = stdKey !== null && Number.isFinite(run.metrics[stdKey]) ? run.metrics[stdKey] : null;
  return { run, key, value: run.metrics[key], std, candidates: candidates.length, ranked: ranking.length, experiments: [...experiments], ranking };
}

/** How a tracked fusion run was trained, read from its params (tuning-objective.ts' `trialParams` names, with fallbacks). */
export interface TrainingRecipe {
  /**
   * "early-stopping": the single-split protocol (evaluateSingleSplit: early stopping with best weights
   * restored + ReduceLROnPlateau on validation loss), as notebook 05 runs it; "fixed-epochs": a tuning trial
   * (every epoch, no callbacks).
   */
  protocol: "early-stopping" | "fixed-epochs";
  /** lib/models architecture name, possibly with an image-input suffix ("NetEngagementPOIFinal[embedding+stats]"). */
  architecture: string;
  /** Seed of the grouped split and of the fitted preprocessors. */
  dataSeed: number;
  /** Seed of the weights, shuffling, dropout and augmentation picks. */
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  labelSmoothing: number;
  dropout: number;
  freezeLayers: number;
  /** "none" or a lib/images preset whose cached embedding variants were used. */
  augmentation: string;
  /** Augmented variants per training photo (when augmentation is on). */
  variants: number;
  /** The TensorFlow.js backend the run trained on, when it logged one (a "backend" param or tag). */
  backend?: string;
  /** PCA components of the embedding (null: raw embedding; undefined: not logged → the protocol's default). */
  embeddingComponents?: number | null;
  /** Param keys that were missing and took the default (shown in the notebook). */
  defaulted: string[];
}

/** Defaults of DEFAULT_TRAIN_CONFIG (cv.ts) / BASE_TRIAL_CONFIG (tuning-objective.ts). */
export const RECIPE_DEFAULTS: Readonly<Omit<TrainingRecipe, "architecture" | "defaulted" | "protocol">> = Object.freeze({
  dataSeed: 42,
  seed: 42,
  epochs: 15,
  batchSize: 32,
  lr: 1e-3,
  weightDecay: 1e-4,
  labelSmoothing: 0.05,
  dropout: 0.3,
  freezeLayers: 0,
  augmentation: "none",
  variants: 2,
});

/** Read the training recipe of a run; the architecture param is required, the others fall back to the defaults. */
export function recipeFromRun(run: RunSummary): TrainingRecipe {
  const p = run.params;
  const defaulted: string[] = [];
  const pick = (names: readonly string[]): string | undefined => names.map((n) => p[n]).find((v) => v !== undefined && v !== "");
  const num = (names: readonly string[], fallback: number): number => {
    const text = pick(names);
    if (text === undefined) {
      defaulted.push(names[0]);
      return fallback;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`run ${run.runName || run.runId}: param ${names[0]} = ${JSON.stringify(text)} is not a number`);
    return value;
  };
  const architecture = pick(["architecture", "model"]);
  if (!architecture) throw new Error(`run ${run.runName || run.runId} (${run.experimentName}) has no "architecture"/"model" param: cannot rebuild it`);
  const augmentation = pick(["augmentation"]) ?? "none";
  if (pick(["augmentation"]) === undefined) defaulted.push("augmentation");
  const seed = num(["seed"], RECIPE_DEFAULTS.seed);
  // notebook 05 logs cv.ts' TrainConfig spread (camelCase keys, the optimizer as JSON).
  let optimizer: { lr?: number; weightDecay?: number } = {};
  const optimizerText = pick(["optimizer"]);
  if (optimizerText?.startsWith("{")) {
    try {
      optimizer = JSON.parse(optimizerText) as { lr?: number; weightDecay?: number };
    } catch {
      throw new Error(`run ${run.runName || run.runId}: param optimizer is not valid JSON: ${optimizerText}`);
    }
  }
  const lr = pick(["lr", "learning_rate"]) === undefined && Number.isFinite(optimizer.lr) ? optimizer.lr! : num(["lr", "learning_rate"], RECIPE_DEFAULTS.lr);
  const weightDecay = pick(["weight_decay", "weightDecay"]) === undefined && Number.isFinite(optimizer.weightDecay) ? optimizer.weightDecay! : num(["weight_decay", "weightDecay"], RECIPE_DEFAULTS.weightDecay);
  const pcaText = pick(["embedding_components", "pca_components", "embedding_pca"]);
  let embeddingComponents: number | null | undefined;
  if (pcaText !== undefined) {
    const k = Number(pcaText);
    embeddingComponents = pcaText === "none" || pcaText === "null" || k === 0 ? null : Number.isInteger(k) && k > 0 ? k : undefined;
    if (embeddingComponents === undefined) throw new Error(`run ${run.runName || run.runId}: param embedding_components = ${JSON.stringify(pcaText)} is not a positive integer or "none"`);
  }
  return {
    protocol: p.protocol === "single-split" ? "early-stopping" : "fixed-epochs",
    architecture,
    // the single split uses one seed for the split and the weights.
    dataSeed: pick(["data_seed"]) === undefined ? seed : num(["data_seed"], seed),
    seed,
    epochs: num(["epochs"], RECIPE_DEFAULTS.epochs),
    batchSize: num(["batch_size", "batchSize"], RECIPE_DEFAULTS.batchSize),
    lr,
    weightDecay,
    labelSmoothing: num(["label_smoothing", "labelSmoothing"], RECIPE_DEFAULTS.labelSmoothing),
    dropout: num(["dropout_rate", "dropout"], RECIPE_DEFAULTS.dropout),
    freezeLayers: num(["freeze_layers"], RECIPE_DEFAULTS.freezeLayers),
    augmentation,
    variants: augmentation === "none" ? 0 : num(["augmented_variants"], RECIPE_DEFAULTS.variants),
    embeddingComponents,
    backend: pick(["backend", "tf_backend"]) ?? run.tags["backend"],
    defaulted,
  };
}

/** Where a run saved a model checkpoint (a `checkpoint`/`checkpoint_dir`/`model_dir` tag or param), if any. */
export function checkpointOf(run: RunSummary): string | null {
  for (const key of ["checkpoint", "checkpoint_dir", "model_dir", "model_path"]) {
    const value = run.tags[key] ?? run.params[key];
    if (value) return value.startsWith("file://") ? decodeURIComponent(new URL(value).pathname) : value;
  }
  return null;
}
