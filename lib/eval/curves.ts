/**
 * One-vs-rest ROC and precision–recall curves with the same definitions as scikit-learn:
 * `roc_curve` (drop_intermediate=True) + trapezoidal `auc` = `roc_auc_score`, and `precision_recall_curve` +
 * `average_precision_score` (AP = Σ (Rₙ − Rₙ₋₁) Pₙ, a step sum, not the trapezoid).
 */
import type { FigureOptions, PlotlyFigure } from "../viz";
import { baseLayout } from "../viz";
import type { ProbabilityRows } from "./report";

/** sklearn's `_binary_clf_curve`: cumulative false/true positives at each distinct score, highest score first. */
function binaryClfCurve(yTrue: ArrayLike<number | boolean>, scores: ArrayLike<number>): { fps: number[]; tps: number[]; thresholds: number[] } {
  if (yTrue.length !== scores.length) throw new Error(`binary curve: ${yTrue.length} labels but ${scores.length} scores`);
  const order = Array.from({ length: scores.length }, (_, i) => i);
  // Stable descending sort, like numpy's mergesort on reversed order: ties keep a fixed order (irrelevant to the curve).
  order.sort((a, b) => scores[b] - scores[a] || b - a);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (Number.isNaN(scores[i])) throw new Error(`binary curve: score ${k} is NaN`);
    if (yTrue[i]) tp += 1;
    const last = k === order.length - 1 || scores[order[k + 1]] !== scores[i];
    if (last) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thresholds.push(scores[i]);
    }
  }
  return { fps, tps, thresholds };
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Decreasing; the first is +Infinity (the point (0, 0)), as sklearn ≥ 1.3. */
  thresholds: number[];
}

/** sklearn's `roc_curve(y_true, y_score)` with `drop_intermediate=True` (collinear points removed). */
export function rocCurve(yTrue: ArrayLike<number | boolean>, scores: ArrayLike<number>, options: { dropIntermediate?: boolean } = {}): RocCurve {
  let { fps, tps, thresholds } = binaryClfCurve(yTrue, scores);
  if ((options.dropIntermediate ?? true) && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      const secondDiffF = fps[i + 1] - 2 * fps[i] + fps[i - 1];
      const secondDiffT = tps[i + 1] - 2 * tps[i] + tps[i - 1];
      if (secondDiffF !== 0 || secondDiffT !== 0) keep.push(i);
    }
    keep.push(fps.length - 1);
    fps = keep.map((i) => fps[i]);
    tps = keep.map((i) => tps[i]);
    thresholds = keep.map((i) => thresholds[i]);
  }
  fps = [0, ...fps];
  tps = [0, ...tps];
  thresholds = [Infinity, ...thresholds];
  const negatives = fps[fps.length - 1];
  const positives = tps[tps.length - 1];
  return {
    fpr: fps.map((f) => (negatives === 0 ? NaN : f / negatives)),
    tpr: tps.map((t) => (positives === 0 ? NaN : t / positives)),
    thresholds,
  };
}

/** Trapezoidal area under a curve given by points in order of x (sklearn's `auc`). */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

/** Binary ROC AUC (sklearn's `roc_auc_score` for two classes); NaN when only one class is present. */
export function rocAuc(yTrue: ArrayLike<number | boolean>, scores: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(yTrue, scores);
  if (fpr.some(Number.isNaN) || tpr.some(Number.isNaN)) return NaN;
  return trapezoidArea(fpr, tpr);
}

export interface PrecisionRecallCurve {
  /** Ends with precision 1 at recall 0, as sklearn. */
  precision: number[];
  /** Decreasing, ends with 0. */
  recall: number[];
  /** Increasing; one fewer than precision/recall. */
  thresholds: number[];
}

/** sklearn's `precision_recall_curve(y_true, probas_pred)` (recall NaN when there are no positives). */
export function precisionRecallCurve(yTrue: ArrayLike<number | boolean>, scores: ArrayLike<number>): PrecisionRecallCurve {
  const { fps, tps, thresholds } = binaryClfCurve(yTrue, scores);
  const positives = tps[tps.length - 1] ?? 0;
  const precision = tps.map((t, i) => t / (t + fps[i]));
  const recall = tps.map((t) => (positives === 0 ? NaN : t / positives));
  return { precision: [...precision.reverse(), 1], recall: [...recall.reverse(), 0], thresholds: thresholds.reverse() };
}

/** sklearn's `average_precision_score` for one binary problem; NaN when there are no positives. */
export function averagePrecision(yTrue: ArrayLike<number | boolean>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(yTrue, scores);
  if (recall.some(Number.isNaN)) return NaN;
  let ap = 0;
  for (let i = 0; i < recall.length - 1; i++) ap -= (recall[i + 1] - recall[i]) * precision[i];
  return ap;
}

export interface OneVsRestClass {
  class: string;
  /** Samples of this class (the positives). */
  support: number;
  rocAuc: number;
  averagePrecision: number;
  roc: RocCurve;
  pr: PrecisionRecallCurve;
}

export interface OneVsRestResult {
  classes: OneVsRestClass[];
  /** Unweighted mean over classes with a defined value (sklearn's average="macro"). */
  macroRocAuc: number;
  /** Support-weighted mean (sklearn's average="weighted"). */
  weightedRocAuc: number;
  macroAveragePrecision: number;
  weightedAveragePrecision: number;
}

function means(values: number[], weights: number[]): { macro: number; weighted: number } {
  const defined = values.map((v, i) => ({ v, w: weights[i] })).filter((x) => Number.isFinite(x.v));
  if (defined.length === 0) return { macro: NaN, weighted: NaN };
  const totalWeight = defined.reduce((s, x) => s + x.w, 0);
  return { macro: defined.reduce((s, x) => s + x.v, 0) / defined.length, weighted: totalWeight === 0 ? NaN : defined.reduce((s, x) => s + x.v * x.w, 0) / totalWeight };
}

/**
 * One-vs-rest ROC and PR per class from class probabilities: class c's positives are the samples of class c,
 * its score is column c. Macro ROC AUC equals sklearn's `roc_auc_score(y, proba, multi_class="ovr")`, macro AP
 * equals `average_precision_score(label_binarize(y), proba)`. A class without samples gets NaN and is left out
 * of the averages (sklearn raises instead).
 */
export function oneVsRest(yTrue: ArrayLike<number>, proba: ProbabilityRows, classNames: readonly string[]): OneVsRestResult {
  if (yTrue.length !== proba.length) throw new Error(`oneVsRest: ${yTrue.length} labels but ${proba.length} probability rows`);
  proba.forEach((row, i) => {
    if (row.length !== classNames.length) throw new Error(`oneVsRest: probability row ${i} has ${row.length} values for ${classNames.length} classes`);
  });
  const classes = classNames.map((name, c) => {
    const positives = Array.from(yTrue, (y) => y === c);
    const scores = proba.map((row) => row[c]);
    return {
      class: name,
      support: positives.filter(Boolean).length,
      rocAuc: rocAuc(positives, scores),
      averagePrecision: averagePrecision(positives, scores),
      roc: rocCurve(positives, scores),
      pr: precisionRecallCurve(positives, scores),
    };
  });
  const support = classes.map((c) => c.support);
  const roc = means(classes.map((c) => c.rocAuc), support);
  const ap = means(classes.map((c) => c.averagePrecision), support);
  return { classes, macroRocAuc: roc.macro, weightedRocAuc: roc.weighted, macroAveragePrecision: ap.macro, weightedAveragePrecision: ap.weighted };
}

/** Table rows: class, support, ROC AUC, AP, then the macro and weighted averages. */
export function oneVsRestRows(result: OneVsRestResult): { class: string; support: number; rocAuc: number; averagePrecision: number }[] {
  const total = result.classes.reduce((s, c) => s + c.support, 0);
  return [
    ...result.classes.map((c) => ({ class: c.class, support: c.support, rocAuc: c.rocAuc, averagePrecision: c.averagePrecision })),
    { class: "macro avg", support: total, rocAuc: result.macroRocAuc, averagePrecision: result.macroAveragePrecision },
    { class: "weighted avg", support: total, rocAuc: result.weightedRocAuc, averagePrecision: result.weightedAveragePrecision },
  ];
}

/** plotly's default colours, fixed so a class keeps its colour across traces. */
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** One ROC curve per class (AUC in the legend) and the chance diagonal. */
export function rocFigure(result: OneVsRestResult, options: FigureOptions = {}): PlotlyFigure {
  const data: Record<string, unknown>[] = result.classes.map((c, index) => ({
    type: "scatter",
    mode: "lines",
    name: `${c.class} (AUC ${c.rocAuc.toFixed(3)})`,
    x: c.roc.fpr,
    y: c.roc.tpr,
    line: { color: PALETTE[index % PALETTE.length] },
  }));
  data.push({ type: "scatter", mode: "lines", name: "chance", x: [0, 1], y: [0, 1], line: { dash: "dash", color: "#999" }, hoverinfo: "skip" });
  const layout = baseLayout({ title: options.title ?? `One-vs-rest ROC (macro AUC ${result.macroRocAuc.toFixed(3)})`, xLabel: "false positive rate", yLabel: "true positive rate", height: options.height ?? 440, width: options.width ?? 520 });
  layout.xaxis = { ...(layout.xaxis as object), range: [0, 1] };
  layout.yaxis = { ...(layout.yaxis as object), range: [0, 1.02], scaleanchor: "x", scaleratio: 1 };
  return { data, layout };
}

/** One precision–recall curve per class (AP in the legend, step-wise as AP is computed) and each class's base rate (a random classifier's precision). */
export function precisionRecallFigure(result: OneVsRestResult, options: FigureOptions = {}): PlotlyFigure {
  const total = result.classes.reduce((s, c) => s + c.support, 0);
  const data: Record<string, unknown>[] = [];
  result.classes.forEach((c, index) => {
    const color = PALETTE[index % PALETTE.length];
    const recall = [...c.pr.recall].reverse();
    const precision = [...c.pr.precision].reverse();
    // "vh": precision jumps to Pₙ where recall reaches Rₙ, so the area under the steps is exactly AP.
    data.push({ type: "scatter", mode: "lines", name: `${c.class} (AP ${c.averagePrecision.toFixed(3)})`, x: recall, y: precision, line: { shape: "vh", color } });
    const prevalence = total === 0 ? 0 : c.support / total;
    data.push({ type: "scatter", mode: "lines", name: `${c.class} base rate ${prevalence.toFixed(2)}`, x: [0, 1], y: [prevalence, prevalence], line: { dash: "dot", width: 1, color } });
  });
  const layout = baseLayout({ title: options.title ?? `One-vs-rest precision–recall (macro AP ${result.macroAveragePrecision.toFixed(3)})`, xLabel: "recall", yLabel: "precision", height: options.height ?? 440, width: options.width ?? 560 });
  layout.xaxis = { ...(layout.xaxis as object), range: [0, 1] };
  layout.yaxis = { ...(layout.yaxis as object), range: [0, 1.02] };
  return { data, layout };
}
