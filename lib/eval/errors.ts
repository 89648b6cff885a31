/**
 * Error analysis on plain arrays: where each class's samples went, which pairs are confused most, how far
 * (in ordinal classes: low < medium < high) the errors go, and the most confident mistakes as an image grid.
 */
import type { ImageInput, RgbImage } from "../data";
import type { GridItem } from "../viz";
import { formatNumber } from "../viz";
import { confusionMatrix } from "../train";
import { argmax, type ProbabilityRows } from "./report";

function checkLengths(yTrue: { length: number }, yPred: { length: number }, caller: string): void {
  if (yTrue.length !== yPred.length) throw new Error(`${caller}: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
}

function describeCounts(counts: readonly number[], classNames: readonly string[], skip: number): string {
  return counts
    .map((count, j) => ({ count, name: classNames[j], j }))
    .filter((c) => c.j !== skip && c.count > 0)
    .sort((a, b) => b.count - a.count || a.j - b.j)
    .map((c) => `${c.name}: ${c.count}`)
    .join(", ");
}

export interface ClassErrorRow {
  class: string;
  /** Samples whose true class is this one. */
  support: number;
  correct: number;
  recall: number;
  /** Samples of this class predicted as another class. */
  falseNegatives: number;
  /** Where the false negatives went, e.g. "medium: 12, high: 3". */
  wentTo: string;
  /** Samples of other classes predicted as this one. */
  falsePositives: number;
  /** Where the false positives came from. */
  cameFrom: string;
  precision: number;
}

/** Per class: false negatives with the class they went to, false positives with the class they came from. */
export function classErrors(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classNames: readonly string[]): ClassErrorRow[] {
  checkLengths(yTrue, yPred, "classErrors");
  const cm = confusionMatrix(yTrue, yPred, classNames.map((_, i) => i));
  return classNames.map((name, i) => {
    const support = cm[i].reduce((a, b) => a + b, 0);
    const predicted = cm.reduce((sum, row) => sum + row[i], 0);
    const correct = cm[i][i];
    return {
      class: name,
      support,
      correct,
      recall: support === 0 ? 0 : correct / support,
      falseNegatives: support - correct,
      wentTo: describeCounts(cm[i], classNames, i),
      falsePositives: predicted - correct,
      cameFrom: describeCounts(cm.map((row) => row[i]), classNames, i),
      precision: predicted === 0 ? 0 : correct / predicted,
    };
  });
}

export interface ConfusedPairRow {
  trueClass: string;
  predictedClass: string;
  count: number;
  /** count / samples of the true class. */
  shareOfTrueClass: number;
  /** count / all errors. */
  shareOfErrors: number;
  /** |true − predicted| in class order (1 = adjacent classes). */
  distance: number;
}

/** Off-diagonal cells sorted by count (ties: larger distance first, then class order). */
export function mostConfusedPairs(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: readonly string[],
  options: { top?: number } = {},
): ConfusedPairRow[] {
  checkLengths(yTrue, yPred, "mostConfusedPairs");
  const cm = confusionMatrix(yTrue, yPred, classNames.map((_, i) => i));
  const errors = cm.reduce((sum, row, i) => sum + row.reduce((s, c, j) => s + (i === j ? 0 : c), 0), 0);
  const rows: ConfusedPairRow[] = [];
  cm.forEach((row, i) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      if (i === j || count === 0) return;
      rows.push({
        trueClass: classNames[i],
        predictedClass: classNames[j],
        count,
        shareOfTrueClass: count / support,
        shareOfErrors: count / errors,
        distance: Math.abs(i - j),
      });
    });
  });
  rows.sort((a, b) => b.count - a.count || b.distance - a.distance || classNames.indexOf(a.trueClass) - classNames.indexOf(b.trueClass) || classNames.indexOf(a.predictedClass) - classNames.indexOf(b.predictedClass));
  return options.top === undefined ? rows : rows.slice(0, options.top);
}

export interface OrdinalErrorRow {
  /** "correct", "adjacent (±1)", "distant (±2)", … */
  kind: string;
  distance: number;
  count: number;
  shareOfSamples: number;
  /** Share of the errors (0 for the "correct" row). */
  shareOfErrors: number;
}

export interface OrdinalErrorSummary {
  rows: OrdinalErrorRow[];
  /** Mean |true − predicted| over all samples (0 = perfect; a low↔high mistake costs 2). */
  meanAbsoluteClassError: number;
  /** Errors between non-adjacent classes (distance ≥ 2) over all errors: the worse kind. */
  distantShareOfErrors: number;
}

/**
 * For ordered classes (low < medium < high): correct vs adjacent (low↔medium, medium↔high) vs distant
 * (low↔high) errors. Class index order is the ordinal order.
 */
export function ordinalErrors(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): OrdinalErrorSummary {
  checkLengths(yTrue, yPred, "ordinalErrors");
  const counts = new Array<number>(Math.max(1, numClasses)).fill(0);
  let absSum = 0;
  for (let k = 0; k < yTrue.length; k++) {
    const d = Math.abs(yTrue[k] - yPred[k]);
    if (!Number.isInteger(d) || d >= counts.length) throw new Error(`ordinalErrors: sample ${k} has classes ${yTrue[k]} and ${yPred[k]}, outside 0..${numClasses - 1}`);
    counts[d] += 1;
    absSum += d;
  }
  const n = yTrue.length;
  const errors = n - counts[0];
  const rows = counts.map((count, distance) => ({
    kind: distance === 0 ? "correct" : distance === 1 ? "adjacent (±1)" : `distant (±${distance})`,
    distance,
    count,
    shareOfSamples: n === 0 ? 0 : count / n,
    shareOfErrors: distance === 0 || errors === 0 ? 0 : count / errors,
  }));
  const distant = counts.slice(2).reduce((a, b) => a + b, 0);
  return { rows, meanAbsoluteClassError: n === 0 ? 0 : absSum / n, distantShareOfErrors: errors === 0 ? 0 : distant / errors };
}

export interface Mistake {
  /** Row index in the evaluated set (use it to find the record, the image, the features). */
  index: number;
  trueClass: number;
  predictedClass: number;
  /** Probability of the predicted class. */
  confidence: number;
  /** Probability given to the true class. */
  trueClassProbability: number;
  /** |true − predicted| in class order. */
  distance: number;
}

/** Wrong predictions sorted by confidence (highest first): the mistakes the model is most sure about. */
export function mostConfidentMistakes(yTrue: ArrayLike<number>, proba: ProbabilityRows, options: { top?: number; trueClass?: number; predictedClass?: number } = {}): Mistake[] {
  checkLengths(yTrue, proba, "mostConfidentMistakes");
  const mistakes: Mistake[] = [];
  for (let i = 0; i < yTrue.length; i++) {
    const row = proba[i];
    const predicted = argmax(row);
    if (predicted === yTrue[i]) continue;
    if (options.trueClass !== undefined && yTrue[i] !== options.trueClass) continue;
    if (options.predictedClass !== undefined && predicted !== options.predictedClass) continue;
    mistakes.push({ index: i, trueClass: yTrue[i], predictedClass: predicted, confidence: row[predicted], trueClassProbability: row[yTrue[i]], distance: Math.abs(yTrue[i] - predicted) });
  }
  mistakes.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  return options.top === undefined ? mistakes : mistakes.slice(0, options.top);
}

export interface MistakeGridOptions {
  classNames: readonly string[];
  /** Image of an evaluated row: a file (e.g. lib/poi's recordImage, so that errors name the row) or decoded pixels. */
  image: (index: number) => ImageInput | RgbImage;
  /** A few metadata fields of the row for the caption (e.g. { id, tier, xps }). */
  metadata?: (index: number) => Record<string, string | number | boolean | null | undefined>;
  /** Border colour per mistake; default red for every mistake. */
  border?: (mistake: Mistake) => string;
}

/** Grid items (for lib/viz's `imageGridHtml` / `showImageGrid`) for mistakes: true / predicted / confidence + metadata. */
export function mistakeGridItems(mistakes: readonly Mistake[], options: MistakeGridOptions): GridItem[] {
  return mistakes.map((m) => {
    const fields = options.metadata ? options.metadata(m.index) : {};
    const meta = Object.entries(fields)
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => `${k}: ${typeof v === "number" ? formatNumber(v) : String(v)}`);
    const caption = [
      `true ${options.classNames[m.trueClass]} → pred ${options.classNames[m.predictedClass]}`,
      `conf ${m.confidence.toFixed(2)} (p true ${m.trueClassProbability.toFixed(2)})`,
      ...meta,
    ].join(" · ");
    return { source: options.image(m.index), caption, border: options.border ? options.border(m) : "#d62728" };
  });
}
