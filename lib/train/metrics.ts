/**
 * Classification metrics defined exactly as scikit-learn's `confusion_matrix`,
 * `precision_recall_fscore_support` and `classification_report` (zero_division="warn" → 0),
 * on plain arrays of integer class labels. No TensorFlow.js here: usable on any predictions.
 */

export type Labels = ArrayLike<number>;

/** Sorted distinct labels of `yTrue ∪ yPred` (sklearn's `unique_labels`). */
export function uniqueLabels(...arrays: Labels[]): number[] {
  const set = new Set<number>();
  for (const array of arrays) for (let i = 0; i < array.length; i++) set.add(array[i]);
  return [...set].sort((a, b) => a - b);
}

function checkSameLength(yTrue: Labels, yPred: Labels, caller: string): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`${caller}: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
}

/**
 * `C[i][j]` = number of samples whose true label is `labels[i]` and predicted label is `labels[j]`
 * (rows = truth, columns = prediction), as sklearn. Samples whose true or predicted label is not in
 * `labels` are ignored.
 */
export function confusionMatrix(yTrue: Labels, yPred: Labels, labels?: readonly number[]): number[][] {
  checkSameLength(yTrue, yPred, "confusionMatrix");
  const classes = labels ? [...labels] : uniqueLabels(yTrue, yPred);
  if (classes.length === 0) throw new Error("confusionMatrix: 'labels' should contain at least one label");
  const index = new Map<number, number>();
  classes.forEach((label, i) => index.set(label, i));
  const matrix = classes.map(() => classes.map(() => 0));
  for (let k = 0; k < yTrue.length; k++) {
    const i = index.get(yTrue[k]);
    const j = index.get(yPred[k]);
    if (i !== undefined && j !== undefined) matrix[i][j] += 1;
  }
  return matrix;
}

export interface ClassScores {
  precision: number;
  recall: number;
  "f1-score": number;
  support: number;
}

export interface PrecisionRecallF1 {
  labels: number[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/** 0/0 → 0, like sklearn with zero_division="warn" (it warns and returns 0). */
function divide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Per-class precision, recall, F1 and support (sklearn `precision_recall_fscore_support(average=None)`). */
export function precisionRecallF1(yTrue: Labels, yPred: Labels, labels?: readonly number[]): PrecisionRecallF1 {
  checkSameLength(yTrue, yPred, "precisionRecallF1");
  const classes = labels ? [...labels] : uniqueLabels(yTrue, yPred);
  const tp = classes.map(() => 0);
  const predicted = classes.map(() => 0);
  const actual = classes.map(() => 0);
  const index = new Map<number, number>();
  classes.forEach((label, i) => index.set(label, i));
  for (let k = 0; k < yTrue.length; k++) {
    const t = index.get(yTrue[k]);
    const p = index.get(yPred[k]);
    if (t !== undefined) actual[t] += 1;
    if (p !== undefined) predicted[p] += 1;
    if (t !== undefined && yTrue[k] === yPred[k]) tp[t] += 1;
  }
  const precision = classes.map((_, i) => divide(tp[i], predicted[i]));
  const recall = classes.map((_, i) => divide(tp[i], actual[i]));
  const f1 = classes.map((_, i) => divide(2 * precision[i] * recall[i], precision[i] + recall[i]));
  return { labels: classes, precision, recall, f1, support: actual };
}

/** Fraction of exact matches (sklearn `accuracy_score`). */
export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkSameLength(yTrue, yPred, "accuracy");
  if (yTrue.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/** Unweighted mean of per-class F1 (sklearn `f1_score(average="macro")`); labels default to yTrue ∪ yPred. */
export function f1Macro(yTrue: Labels, yPred: Labels, labels?: readonly number[]): number {
  const { f1 } = precisionRecallF1(yTrue, yPred, labels);
  return f1.length === 0 ? 0 : f1.reduce((a, b) => a + b, 0) / f1.length;
}

export interface ClassificationReport {
  labels: number[];
  targetNames: string[];
  /** Per class, keyed by target name (as sklearn's output_dict=True). */
  classes: Record<string, ClassScores>;
  /** Present when `labels` is omitted or equals the set of labels seen (then micro avg equals accuracy). */
  accuracy?: number;
  /** Present instead of `accuracy` when `labels` differs from the labels seen (as sklearn). */
  microAvg?: ClassScores;
  macroAvg: ClassScores;
  weightedAvg: ClassScores;
  /** The text sklearn prints for `classification_report(..., digits)`. */
  text: string;
  /** The dictionary sklearn returns for `output_dict=True` (JSON-ready). */
  dict: Record<string, ClassScores | number>;
}

/**
 * sklearn's `classification_report(yTrue, yPred, labels, target_names, digits)`: per-class
 * precision/recall/F1/support, then accuracy (or micro avg), macro avg and weighted avg.
 * Macro-F1 is the mean of per-class F1 scores (not the F1 of mean precision and recall).
 */
export function classificationReport(
  yTrue: Labels,
  yPred: Labels,
  labels?: readonly number[],
  targetNames?: readonly string[],
  digits = 2,
): ClassificationReport {
  checkSameLength(yTrue, yPred, "classificationReport");
  const seen = uniqueLabels(yTrue, yPred);
  const classes = labels ? [...labels] : seen;
  const names = targetNames ? [...targetNames] : classes.map((label) => String(label));
  if (names.length !== classes.length) {
    throw new Error(
      `classificationReport: ${classes.length} labels (${classes.join(", ")}) but ${names.length} target names (${names.join(", ")})`,
    );
  }
  const labelSet = new Set(classes);
  // sklearn prints "accuracy" only when the chosen labels are exactly the labels seen, else "micro avg".
  const microIsAccuracy = !labels || (labelSet.size === seen.length && seen.every((label) => labelSet.has(label)));
  const scores = precisionRecallF1(yTrue, yPred, classes);
  const perClass: Record<string, ClassScores> = {};
  names.forEach((name, i) => {
    perClass[name] = {
      precision: scores.precision[i],
      recall: scores.recall[i],
      "f1-score": scores.f1[i],
      support: scores.support[i],
    };
  });
  const totalSupport = scores.support.reduce((a, b) => a + b, 0);
  const mean = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  const weighted = (values: number[]): number =>
    divide(
      values.reduce((sum, v, i) => sum + v * scores.support[i], 0),
      totalSupport,
    );
  const macroAvg: ClassScores = {
    precision: mean(scores.precision),
    recall: mean(scores.recall),
    "f1-score": mean(scores.f1),
    support: totalSupport,
  };
  const weightedAvg: ClassScores = {
    precision: weighted(scores.precision),
    recall: weighted(scores.recall),
    "f1-score": weighted(scores.f1),
    support: totalSupport,
  };
  // Micro averages over the chosen labels: pooled TP / pooled predictions / pooled truths.
  let microTp = 0;
  let microPredicted = 0;
  for (let k = 0; k < yTrue.length; k++) {
    if (labelSet.has(yPred[k])) microPredicted++;
    if (labelSet.has(yTrue[k]) && yTrue[k] === yPred[k]) microTp++;
  }
  const microP = divide(microTp, microPredicted);
  const microR = divide(microTp, totalSupport);
  const microAvg: ClassScores = {
    precision: microP,
    recall: microR,
    "f1-score": divide(2 * microP * microR, microP + microR),
    support: totalSupport,
  };

  const dict: Record<string, ClassScores | number> = { ...perClass };
  // sklearn stores micro precision as "accuracy" in the dict but prints micro F1 in the text (equal up to rounding).
  if (microIsAccuracy) dict["accuracy"] = microAvg.precision;
  else dict["micro avg"] = microAvg;
  dict["macro avg"] = macroAvg;
  dict["weighted avg"] = weightedAvg;

  const text = formatReportText(names, scores, microIsAccuracy, microAvg, macroAvg, weightedAvg, digits);
  return {
    labels: classes,
    targetNames: names,
    classes: perClass,
    ...(microIsAccuracy ? { accuracy: microAvg.precision } : { microAvg }),
    macroAvg,
    weightedAvg,
    text,
    dict,
  };
}

function formatReportText(
  names: string[],
  scores: PrecisionRecallF1,
  microIsAccuracy: boolean,
  microAvg: ClassScores,
  macroAvg: ClassScores,
  weightedAvg: ClassScores,
  digits: number,
): string {
  const lastLineHeading = "weighted avg";
  const width = Math.max(...names.map((n) => n.length), lastLineHeading.length, digits);
  const right = (text: string, w: number): string => text.padStart(w);
  const headers = ["precision", "recall", "f1-score", "support"];
  let report = right("", width) + " " + headers.map((h) => " " + right(h, 9)).join("");
  report += "\n\n";
  const row = (name: string, p: number, r: number, f: number, s: number): string =>
    right(name, width) +
    " " +
    [p, r, f].map((v) => " " + right(formatFixed(v, digits), 9)).join("") +
    " " +
    right(String(s), 9) +
    "\n";
  names.forEach((name, i) => {
    report += row(name, scores.precision[i], scores.recall[i], scores.f1[i], scores.support[i]);
  });
  report += "\n";
  if (microIsAccuracy) {
    // sklearn formats the two empty cells with "{:>9.2}" (blank) and only the F1 column holds accuracy.
    report +=
      right("accuracy", width) + " " + " " + right("", 9) + " " + right("", 9) + " " + right(formatFixed(microAvg["f1-score"], digits), 9) + " " + right(String(microAvg.support), 9) + "\n";
  } else {
    report += row("micro avg", microAvg.precision, microAvg.recall, microAvg["f1-score"], microAvg.support);
  }
  report += row("macro avg", macroAvg.precision, macroAvg.recall, macroAvg["f1-score"], macroAvg.support);
  report += row("weighted avg", weightedAvg.precision, weightedAvg.recall, weightedAvg["f1-score"], weightedAvg.support);
  return report;
}

/**
 * Python's `format(x, ".{digits}f")`: correctly rounded from the exact binary value, ties to even.
 * JavaScript's `toFixed` rounds exact ties up (0.125 → "0.13" where Python gives "0.12").
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const rounded = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return rounded;
  // The exact decimal expansion of a double near a tie is visible within 100 digits.
  const exact = Math.abs(x).toFixed(100);
  const point = exact.indexOf(".");
  const tail = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(tail)) return rounded;
  // Exact tie: round half to even on the last kept digit.
  const kept = exact.slice(0, point + 1 + digits).replace(/\.$/, "");
  const lastDigit = Number(kept.replace(".", "").slice(-1));
  const result = lastDigit % 2 === 0 ? kept : Math.abs(x).toFixed(digits);
  return (x < 0 ? "-" : "") + result;
}
