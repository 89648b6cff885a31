/**
 * Model-agnostic explanations on a FeatureMatrix with named column groups (categories, tier, tags, xps,
 * location, image statistics, image embedding, …): any model that maps a matrix to class probabilities works.
 *
 * - permutationImportance: score drop when one group's columns are shuffled across rows (the group's columns
 *   move together, so a one-hot block stays a valid one-hot row), mean ± std over seeded repeats (sklearn's
 *   `permutation_importance`, with groups instead of single columns).
 * - shapleySampling: a local explanation of one prediction: Shapley values of the groups, estimated from random
 *   group orders (Štrumbelj & Kononenko 2014). Each order walks from a background row to the explained row one
 *   group at a time, so the attributions of one order sum exactly to f(x) − f(background): the estimate keeps
 *   the efficiency property Σ φ = f(x) − E[f(background)] with any model.
 *
 * Image inputs take part when they are columns of the matrix: add the image embedding (or image statistics)
 * as a group with lib/features' `blockFromRows("image_embedding", …)` + `hstack`, and let `predict` split
 * the matrix into the model's inputs.
 */
import type { FeatureMatrix } from "../features";
import { groupIndices } from "../features";
import { accuracy, f1Macro } from "../train";
import { createRng } from "../util";
import type { FigureOptions, PlotlyFigure } from "../viz";
import { baseLayout } from "../viz";
import { predictedClasses, type ProbabilityRows } from "./report";

/** Class probabilities for every row of a feature matrix (sync or async). */
export type PredictProbaFn = (X: FeatureMatrix) => ProbabilityRows | Promise<ProbabilityRows>;

/**
 * "f1_macro" (default: the project's main metric, sensitive to the small classes) or "accuracy" from the argmax
 * prediction, or your own function of (labels, probabilities), higher = better.
 */
export type Scoring = "f1_macro" | "accuracy" | ((yTrue: ArrayLike<number>, proba: ProbabilityRows) => number);

function scorer(scoring: Scoring): { name: string; score: (yTrue: ArrayLike<number>, proba: ProbabilityRows) => number } {
  if (typeof scoring === "function") return { name: scoring.name || "custom", score: scoring };
  if (scoring === "accuracy") return { name: "accuracy", score: (y, p) => accuracy(y, predictedClasses(p)) };
  if (scoring === "f1_macro") {
    // Labels 0..k-1 from the probability width, so a class never predicted counts as F1 = 0.
    return { name: "f1_macro", score: (y, p) => f1Macro(y, predictedClasses(p), Array.from({ length: p[0]?.length ?? 0 }, (_, i) => i)) };
  }
  throw new Error(`unknown scoring ${JSON.stringify(scoring)} (use "f1_macro", "accuracy" or a function)`);
}

function resolveGroups(X: FeatureMatrix, groups: readonly string[] | undefined, caller: string): { group: string; columns: number[] }[] {
  const names = groups ? [...groups] : Object.keys(X.groups);
  if (names.length === 0) throw new Error(`${caller}: the feature matrix has no column groups`);
  return names.map((group) => ({ group, columns: groupIndices(X, group) }));
}

async function predictChecked(predict: PredictProbaFn, X: FeatureMatrix, caller: string): Promise<ProbabilityRows> {
  const proba = await predict(X);
  if (proba.length !== X.rows) throw new Error(`${caller}: predict returned ${proba.length} rows for a matrix of ${X.rows} rows`);
  return proba;
}

function withData(X: FeatureMatrix, rows: number, data: Float32Array): FeatureMatrix {
  return { columns: X.columns, rows, data, groups: X.groups };
}

export interface PermutationImportanceOptions {
  /** Groups to permute; default every group of the matrix. */
  groups?: readonly string[];
  /** Shuffles per group (default 5). */
  repeats?: number;
  seed?: number;
  scoring?: Scoring;
}

export interface GroupImportance {
  group: string;
  columns: number;
  /** Mean of (baseline score − permuted score) over repeats; ≈ 0 for a group the model does not use. */
  mean: number;
  /** Population standard deviation over repeats (numpy's std, as sklearn). */
  std: number;
  values: number[];
}

export interface PermutationImportanceResult {
  scoring: string;
  /** Score on the unpermuted matrix. */
  baseline: number;
  /** Sorted by mean importance, largest first. */
  importances: GroupImportance[];
}

/**
 * Permutation importance per feature group on a held-out matrix (validation or test, never the training rows).
 * Each repeat shuffles the rows of one group's columns with a seeded permutation; all repeats of a group are
 * predicted in one call. Same seed ⇒ same permutations.
 */
export async function permutationImportance(
  predict: PredictProbaFn,
  X: FeatureMatrix,
  yTrue: ArrayLike<number>,
  options: PermutationImportanceOptions = {},
): Promise<PermutationImportanceResult> {
  if (yTrue.length !== X.rows) throw new Error(`permutationImportance: ${yTrue.length} labels for a matrix of ${X.rows} rows`);
  const repeats = options.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`permutationImportance: repeats must be a positive integer, got ${repeats}`);
  const { name, score } = scorer(options.scoring ?? "f1_macro");
  const groups = resolveGroups(X, options.groups, "permutationImportance");
  const rng = createRng(options.seed ?? 42);
  const baseline = score(yTrue, await predictChecked(predict, X, "permutationImportance"));
  const width = X.columns.length;
  const n = X.rows;
  const rowIndex = Array.from({ length: n }, (_, i) => i);
  const importances: GroupImportance[] = [];
  for (const { group, columns } of groups) {
    const stacked = new Float32Array(repeats * n * width);
    for (let r = 0; r < repeats; r++) {
      stacked.set(X.data, r * n * width);
      const permutation = rng.fork(`${group}:${r}`).shuffle(rowIndex);
      for (let i = 0; i < n; i++) {
        const target = (r * n + i) * width;
        const source = permutation[i] * width;
        for (const j of columns) stacked[target + j] = X.data[source + j];
      }
    }
    const proba = await predictChecked(predict, withData(X, repeats * n, stacked), "permutationImportance");
    const values = Array.from({ length: repeats }, (_, r) => baseline - score(yTrue, proba.slice(r * n, (r + 1) * n)));
    const mean = values.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / repeats);
    importances.push({ group, columns: columns.length, mean, std, values });
  }
  importances.sort((a, b) => b.mean - a.mean || a.group.localeCompare(b.group));
  return { scoring: name, baseline, importances };
}

/** Horizontal bars of mean importance with ± std error bars. */
export function permutationImportanceFigure(result: PermutationImportanceResult, options: FigureOptions = {}): PlotlyFigure {
  const shown = [...result.importances].reverse(); // plotly draws the first category at the bottom
  return {
    data: [
      {
        type: "bar",
        orientation: "h",
        // Values in the category labels: bar text does not fit next to bars near zero.
        y: shown.map((g) => `${g.group}  ${g.mean.toFixed(3)} ± ${g.std.toFixed(3)}`),
        x: shown.map((g) => g.mean),
        error_x: { type: "data", array: shown.map((g) => g.std), visible: true },
        marker: { color: shown.map((g) => (g.mean >= 0 ? "#1f77b4" : "#aaaaaa")) },
        hovertemplate: "%{y}: %{x:.4f}<extra></extra>",
      },
    ],
    layout: baseLayout({
      title: options.title ?? `Permutation importance (drop in ${result.scoring}, baseline ${result.baseline.toFixed(3)})`,
      xLabel: options.xLabel ?? `decrease in ${result.scoring}`,
      yLabel: options.yLabel ?? "feature group",
      height: options.height ?? Math.max(260, 60 + 36 * shown.length),
      width: options.width,
    }),
  };
}

export interface ShapleyOptions {
  /** Rows the "absent" groups take their values from (e.g. training rows, or one all-zero/mean row). */
  background: FeatureMatrix;
  groups?: readonly string[];
  /** Sampled group orders (default 64; made even: each order is paired with its reverse to reduce variance). */
  samples?: number;
  seed?: number;
  /** Class whose probability is explained; default the predicted class of the row. */
  classIndex?: number;
}

export interface GroupAttribution {
  group: string;
  /** Estimated Shapley value: the group's share of f(x) − base value. */
  value: number;
  /** Standard error of the estimate over sampled orders. */
  standardError: number;
}

export interface ShapleyResult {
  row: number;
  classIndex: number;
  /** f_c(x): the explained probability. */
  prediction: number;
  /** Mean f_c over the sampled background rows (the expected prediction with every group "absent"). */
  baseValue: number;
  /** Sorted by |value|, largest first; Σ value = prediction − baseValue (up to float rounding). */
  attributions: GroupAttribution[];
}

/**
 * Shapley values of the feature groups for row `row` of `X`, by sampling group orders. Columns outside the
 * chosen groups keep the explained row's values. One predict call on samples × (groups + 1) rows.
 */
export async function shapleySampling(predict: PredictProbaFn, X: FeatureMatrix, row: number, options: ShapleyOptions): Promise<ShapleyResult> {
  if (!Number.isInteger(row) || row < 0 || row >= X.rows) throw new Error(`shapleySampling: row ${row} out of range 0..${X.rows - 1}`);
  const background = options.background;
  if (background.rows < 1) throw new Error("shapleySampling: the background matrix has no rows");
  if (background.columns.length !== X.columns.length || background.columns.some((c, j) => c !== X.columns[j])) {
    throw new Error("shapleySampling: background and X must have the same columns in the same order");
  }
  const groups = resolveGroups(X, options.groups, "shapleySampling");
  const samples = Math.max(2, 2 * Math.ceil((options.samples ?? 64) / 2));
  const rng = createRng(options.seed ?? 42);
  const width = X.columns.length;
  const g = groups.length;
  const x = X.data.subarray(row * width, (row + 1) * width);

  const orders: number[][] = [];
  const baselines: number[] = [];
  for (let m = 0; m < samples; m += 2) {
    const order = rng.shuffle(groups.map((_, k) => k));
    const z = rng.int(background.rows);
    orders.push(order, [...order].reverse());
    baselines.push(z, z);
  }
  // Per order: row 0 = background with x outside the groups; row k = the first k groups of the order switched to x.
  const data = new Float32Array(samples * (g + 1) * width);
  orders.forEach((order, m) => {
    const current = Float32Array.from(x);
    const z = background.data.subarray(baselines[m] * width, (baselines[m] + 1) * width);
    for (const { columns } of groups) for (const j of columns) current[j] = z[j];
    data.set(current, m * (g + 1) * width);
    order.forEach((k, step) => {
      for (const j of groups[k].columns) current[j] = x[j];
      data.set(current, (m * (g + 1) + step + 1) * width);
    });
  });
  const [explained] = await predictChecked(predict, withData(X, 1, Float32Array.from(x)), "shapleySampling");
  const classIndex = options.classIndex ?? predictedClasses([explained])[0];
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= explained.length) throw new Error(`shapleySampling: classIndex ${classIndex} out of range 0..${explained.length - 1}`);
  const proba = await predictChecked(predict, withData(X, samples * (g + 1), data), "shapleySampling");
  const contributions = groups.map(() => new Array<number>(samples).fill(0));
  let baseSum = 0;
  orders.forEach((order, m) => {
    const at = (step: number) => proba[m * (g + 1) + step][classIndex];
    baseSum += at(0);
    order.forEach((k, step) => (contributions[k][m] = at(step + 1) - at(step)));
  });
  const attributions = groups.map(({ group }, k) => {
    const values = contributions[k];
    const mean = values.reduce((a, b) => a + b, 0) / samples;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, samples - 1);
    return { group, value: mean, standardError: Math.sqrt(variance / samples) };
  });
  attributions.sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.group.localeCompare(b.group));
  return { row, classIndex, prediction: explained[classIndex], baseValue: baseSum / samples, attributions };
}

/** Bar chart of one local explanation: green pushes the class probability up, red down. */
export function attributionFigure(result: ShapleyResult, options: FigureOptions & { className?: string } = {}): PlotlyFigure {
  const shown = [...result.attributions].reverse();
  const name = options.className ?? `class ${result.classIndex}`;
  return {
    data: [
      {
        type: "bar",
        orientation: "h",
        y: shown.map((a) => `${a.group}  ${a.value >= 0 ? "+" : ""}${a.value.toFixed(3)}`),
        x: shown.map((a) => a.value),
        error_x: { type: "data", array: shown.map((a) => a.standardError), visible: true, color: "#555" },
        marker: { color: shown.map((a) => (a.value >= 0 ? "#2ca02c" : "#d62728")) },
        hovertemplate: "%{y}: %{x:.4f}<extra></extra>",
      },
    ],
    layout: baseLayout({
      title: options.title ?? `Why P(${name}) = ${result.prediction.toFixed(3)} for row ${result.row} (base value ${result.baseValue.toFixed(3)})`,
      xLabel: options.xLabel ?? `contribution to P(${name})`,
      yLabel: options.yLabel ?? "feature group",
      height: options.height ?? Math.max(260, 60 + 36 * shown.length),
      width: options.width,
    }),
  };
}
