/**
 * Comparing classifier configurations the honest way: every configuration trains on the training part and is scored
 * on the validation part (one MLflow-format run each); the configuration to keep is chosen on validation macro-F1;
 * only the chosen one is scored on the test part, once. What notebooks 13 (backbone × augmentation grid) and 14
 * (image + metadata model, class subset, summary table) run.
 *
 *   const results = await runExperiments([{ name: "baseline", inputs, options }, …], parts, { experiment: "flowers" });
 *   const chosen = chooseExperiment(results);                 // best validation macro-F1 (ties: the earlier one)
 *   await testExperiment(chosen, parts.test);                  // test scores, logged to the chosen run
 *   showTable(experimentSummaryRows(results));                 // train / val / test accuracy, F1, precision, recall
 */
import { selectClasses, type Dataset } from "../data";
import { createRng } from "../util";
import { startRun } from "../track";
import type { DatasetParts, RowMatrix } from "../features";
import { prepareInputs, scoreClassifier, withAugmentation, trainClassifier, type ClassifierBackbone, type ClassifierOptions, type FittedClassifier, type PreparedInputs, type ClassifierScores } from "./classification";

export interface ExperimentSpec {
  name: string;
  inputs: PreparedInputs;
  options: ClassifierOptions;
  /** Extra params logged with the run (what distinguishes this configuration). */
  params?: Record<string, string | number | boolean>;
}

export interface ExperimentResult {
  name: string;
  runId: string;
  experiment: string;
  fitted: FittedClassifier;
  train: ClassifierScores;
  val: ClassifierScores;
  /** Set by testExperiment, for the chosen configuration only. */
  test: ClassifierScores | null;
  params: Record<string, string | number | boolean>;
}

export interface RunExperimentsOptions {
  /** MLflow experiment name. */
  experiment: string;
  tags?: Record<string, string>;
  /** Called after each configuration (for progress lines). */
  onResult?: (result: ExperimentResult, done: number, total: number) => void;
}

/** Train and validate each configuration on the same parts, one tracked run each. */
export async function runExperiments(specs: readonly ExperimentSpec[], parts: Pick<DatasetParts, "train" | "val">, options: RunExperimentsOptions): Promise<ExperimentResult[]> {
  if (parts.val.length === 0) throw new Error("runExperiments: configurations are compared on validation rows; split with a valFraction");
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new Error(`runExperiments: two configurations are named ${JSON.stringify(spec.name)}`);
    names.add(spec.name);
  }
  const results: ExperimentResult[] = [];
  for (const spec of specs) {
    const run = startRun({ experiment: options.experiment, runName: spec.name, tags: options.tags });
    try {
      if (spec.params) run.logParams(spec.params);
      const fitted = await trainClassifier(spec.inputs, parts, { ...spec.options, run });
      const train = await scoreClassifier(fitted, parts.train, { split: "train", run });
      const val = await scoreClassifier(fitted, parts.val, { split: "val", run });
      run.endRun("FINISHED");
      const result: ExperimentResult = { name: spec.name, runId: run.runId, experiment: options.experiment, fitted, train, val, test: null, params: spec.params ?? {} };
      results.push(result);
      options.onResult?.(result, results.length, specs.length);
    } catch (error) {
      if (run.status === "RUNNING") run.endRun("FAILED");
      throw error;
    }
  }
  return results;
}

/** The configuration with the best validation macro-F1 (ties: the earlier one, so the simpler configuration listed first wins). */
export function chooseExperiment(results: readonly ExperimentResult[]): ExperimentResult {
  if (results.length === 0) throw new Error("chooseExperiment: no results");
  return results.reduce((best, r) => (r.val.macroF1 > best.val.macroF1 ? r : best));
}

/** Score the chosen configuration on the test rows, once, and log the scores to its run. */
export async function testExperiment(result: ExperimentResult, testRows: readonly number[]): Promise<ClassifierScores> {
  if (result.test) throw new Error(`testExperiment: ${result.name} was already scored on the test part`);
  const run = startRun({ runId: result.runId });
  try {
    result.test = await scoreClassifier(result.fitted, testRows, { split: "test", run });
    run.setTag("selection", "chosen on validation macro-F1; the only configuration scored on test");
    run.endRun("FINISHED");
    return result.test;
  } catch (error) {
    run.endRun("FAILED");
    throw error;
  }
}

/** One row of the ODIR-style summary table; test columns are empty for configurations not chosen. */
export interface ExperimentSummaryRow {
  experiment: string;
  classes: number;
  chosen: string;
  train_accuracy: number;
  val_accuracy: number;
  val_f1_macro: number;
  test_accuracy: number | null;
  test_f1_macro: number | null;
  test_precision_macro: number | null;
  test_recall_macro: number | null;
  epoch: number;
  train_seconds: number;
}

export function experimentSummaryRows(results: readonly ExperimentResult[], digits = 4): ExperimentSummaryRow[] {
  const r = (x: number) => Number(x.toFixed(digits));
  return results.map((result) => ({
    experiment: result.name,
    classes: result.fitted.classes.length,
    chosen: result.test ? "✔ (then tested)" : "",
    train_accuracy: r(result.train.accuracy),
    val_accuracy: r(result.val.accuracy),
    val_f1_macro: r(result.val.macroF1),
    test_accuracy: result.test ? r(result.test.accuracy) : null,
    test_f1_macro: result.test ? r(result.test.macroF1) : null,
    test_precision_macro: result.test ? r(result.test.macroPrecision) : null,
    test_recall_macro: result.test ? r(result.test.macroRecall) : null,
    epoch: result.fitted.epoch,
    train_seconds: Number(result.fitted.trainSeconds.toFixed(1)),
  }));
}

/**
 * The inputs and parts restricted to some classes (relabelled in that order): the same rows stay in the same part
 * as in the full task, so the subset experiment never trains on a row the full task held out.
 */
export function subsetExperimentData(inputs: PreparedInputs, parts: DatasetParts, classes: readonly string[]): { inputs: PreparedInputs; parts: DatasetParts } {
  const dataset = inputs.dataset;
  const keepLabels = new Set(classes.map((c) => dataset.classes.indexOf(c)));
  const kept = dataset.items.flatMap((item, i) => (keepLabels.has(item.label) ? [i] : []));
  const newIndex = new Map(kept.map((old, i) => [old, i]));
  const subset = selectClasses(dataset, classes);
  const remap = (rows: readonly number[]) => rows.flatMap((i) => (newIndex.has(i) ? [newIndex.get(i)!] : []));
  const slicePixels = inputs.pixels && {
    ...inputs.pixels,
    count: kept.length,
    data: gatherRows(inputs.pixels.data, inputs.pixels.size * inputs.pixels.size * inputs.pixels.channels, kept),
  };
  const sliceMatrix = (m: RowMatrix): RowMatrix => ({ ...m, rows: kept.length, data: gatherRows(m.data, m.columns.length, kept) });
  return {
    inputs: {
      ...inputs,
      dataset: subset,
      pixels: slicePixels || undefined,
      embedding: inputs.embedding && sliceMatrix(inputs.embedding),
      variants: inputs.variants?.map(sliceMatrix),
    },
    parts: { train: remap(parts.train), val: remap(parts.val), test: remap(parts.test), fromSource: parts.fromSource },
  };
}

function gatherRows<T extends Uint8Array | Float32Array>(data: T, width: number, rows: readonly number[]): T {
  const out = new (data.constructor as { new (n: number): T })(rows.length * width);
  rows.forEach((row, i) => out.set(data.subarray(row * width, (row + 1) * width), i * width));
  return out;
}

/**
 * A seeded, class-stratified subsample of `rows` (at most `n` of them, every class kept in proportion, at least one
 * row per class present): for quick comparisons on a large dataset. Returned in ascending order.
 */
export function stratifiedSubsample(labels: ArrayLike<number>, rows: readonly number[], n: number, seed: number): number[] {
  if (!(n >= 1)) throw new Error(`stratifiedSubsample: n must be ≥ 1, got ${n}`);
  if (rows.length <= n) return rows.slice();
  const byClass = new Map<number, number[]>();
  for (const row of rows) {
    const label = labels[row];
    if (!byClass.has(label)) byClass.set(label, []);
    byClass.get(label)!.push(row);
  }
  const rng = createRng(seed).fork("subsample");
  const picked: number[] = [];
  for (const [label, members] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const take = Math.max(1, Math.round((members.length * n) / rows.length));
    picked.push(...rng.fork(String(label)).shuffle(members).slice(0, take));
  }
  return picked.sort((a, b) => a - b);
}

/** Free the models of results that are no longer needed. */
export function disposeExperiments(results: readonly ExperimentResult[], keep: readonly ExperimentResult[] = []): void {
  for (const result of results) if (!keep.includes(result)) result.fitted.model.dispose();
}

export interface BackboneGridOptions {
  backbones: readonly ClassifierBackbone[];
  /** Augmentation presets (lib/images), "none" included for the baseline. */
  presets: readonly string[];
  /** The rows models train on: augmented embeddings are computed for these only. */
  trainRows: readonly number[];
  seed: number;
  /** small-cnn input side (default: the dataset's own size when fixed, else 64). */
  imageSize?: number;
  /** Augmented embedding copies per training image for mobilenet-v2 (default 2). */
  variants?: number;
  /** Training options per backbone (schedule, units). */
  options: Partial<Record<ClassifierBackbone, ClassifierOptions>>;
  onProgress?: (what: string, done: number, total: number) => void;
}

/**
 * One configuration per backbone × preset. Images are prepared once per backbone: pixels decoded once (in RGB when
 * any preset augments, so every cell sees the same input) and augmented on the fly; frozen embeddings computed once,
 * plus each preset's augmented copies of the training rows (withAugmentation).
 */
export async function backboneGridSpecs(dataset: Dataset, grid: BackboneGridOptions): Promise<ExperimentSpec[]> {
  const specs: ExperimentSpec[] = [];
  const augmenting = grid.presets.find((p) => p !== "none");
  for (const backbone of grid.backbones) {
    const options = grid.options[backbone] ?? {};
    const base = await prepareInputs(dataset, { backbone, augment: backbone === "small-cnn" ? augmenting ?? "none" : "none", imageSize: grid.imageSize, seed: grid.seed, onProgress: grid.onProgress });
    for (const preset of grid.presets) {
      const inputs = await withAugmentation(base, preset, { variants: grid.variants, augmentRows: grid.trainRows, seed: grid.seed, onProgress: grid.onProgress });
      specs.push({ name: `${backbone} · ${preset}`, inputs, options, params: { grid_backbone: backbone, grid_augmentation: preset } });
    }
  }
  return specs;
}

/** Validation macro-F1 (or accuracy) of grid results as { categories: presets, values: backbone → one value per preset } for groupedBarChart. */
export function gridValues(results: readonly ExperimentResult[], metric: "macroF1" | "accuracy" = "macroF1"): { categories: string[]; values: Record<string, number[]> } {
  const categories = [...new Set(results.map((r) => String(r.params.grid_augmentation)))];
  const values: Record<string, number[]> = {};
  for (const r of results) {
    const backbone = String(r.params.grid_backbone);
    values[backbone] ??= categories.map(() => NaN);
    values[backbone][categories.indexOf(String(r.params.grid_augmentation))] = r.val[metric];
  }
  return { categories, values };
}
