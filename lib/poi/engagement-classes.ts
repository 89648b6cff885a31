/**
 * Engagement classes from a continuous metric: equal-frequency thresholds fitted on the training rows only
 * (or fixed thresholds), applied to any rows. Fitted objects are plain JSON.
 */
import { EngagementCounts, MetricName, MetricSpec, engagementScores } from "./engagement";

export const DEFAULT_CLASS_LABELS: readonly string[] = Object.freeze(["low", "medium", "high"]);

/**
 * Thresholds t₁ < … < t_{n−1} split scores into n classes; class = number of thresholds strictly below the score,
 * so bins are right-closed like pandas.qcut: (−∞, t₁], (t₁, t₂], …, (t_{n−1}, ∞).
 */
export interface FittedBins {
  kind: "quantile" | "fixed";
  thresholds: number[];
  labels: string[];
  /** For quantile bins: how many training scores they were fitted on. */
  fittedOn?: number;
}

function defaultLabels(n: number): string[] {
  if (n === 3) return DEFAULT_CLASS_LABELS.slice();
  return Array.from({ length: n }, (_, i) => `q${i + 1}`);
}

function assertFinite(scores: readonly number[], what: string): void {
  scores.forEach((s, i) => {
    if (!Number.isFinite(s)) throw new Error(`${what}: score at index ${i} is ${s}, expected a finite number`);
  });
}

/** Quantile with linear interpolation between order statistics (numpy's default, pandas' quantile). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error("quantile: no values");
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Equal-frequency (quantile) bins fitted on training scores: thresholds at the 1/n, 2/n, … quantiles. */
export function fitQuantileBins(trainScores: readonly number[], n = 3, labels?: readonly string[]): FittedBins {
  if (!Number.isInteger(n) || n < 2) throw new Error(`fitQuantileBins: n must be an integer ≥ 2, got ${n}`);
  if (trainScores.length < n) throw new Error(`fitQuantileBins: need at least ${n} training scores, got ${trainScores.length}`);
  assertFinite(trainScores, "fitQuantileBins");
  const names = labels ? labels.slice() : defaultLabels(n);
  if (names.length !== n) throw new Error(`fitQuantileBins: ${n} classes need ${n} labels, got ${names.length}`);
  const sorted = trainScores.slice().sort((a, b) => a - b);
  const thresholds = Array.from({ length: n - 1 }, (_, i) => quantile(sorted, (i + 1) / n));
  for (let i = 1; i < thresholds.length; i++) {
    if (!(thresholds[i] > thresholds[i - 1])) {
      throw new Error(`fitQuantileBins: thresholds ${thresholds.join(", ")} are not strictly increasing (too many ties)`);
    }
  }
  return { kind: "quantile", thresholds, labels: names, fittedOn: trainScores.length };
}

/** Bins with thresholds chosen by hand (e.g. from a domain rule), no fitting. */
export function fixedBins(thresholds: readonly number[], labels?: readonly string[]): FittedBins {
  const n = thresholds.length + 1;
  if (thresholds.length === 0) throw new Error("fixedBins: need at least one threshold");
  assertFinite(thresholds, "fixedBins");
  for (let i = 1; i < thresholds.length; i++) {
    if (!(thresholds[i] > thresholds[i - 1])) throw new Error(`fixedBins: thresholds must increase, got ${thresholds.join(", ")}`);
  }
  const names = labels ? labels.slice() : defaultLabels(n);
  if (names.length !== n) throw new Error(`fixedBins: ${thresholds.length} thresholds make ${n} classes, got ${names.length} labels`);
  return { kind: "fixed", thresholds: thresholds.slice(), labels: names };
}

/** Class index (0 = lowest) of each score. */
export function assignBins(bins: FittedBins, scores: readonly number[]): number[] {
  assertFinite(scores, "assignBins");
  return scores.map((s) => {
    let k = 0;
    while (k < bins.thresholds.length && s > bins.thresholds[k]) k++;
    return k;
  });
}

/** How many scores fall in each class, by label. */
export function classCounts(bins: { labels: readonly string[] }, classes: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of bins.labels) counts[label] = 0;
  for (const c of classes) counts[bins.labels[c]]++;
  return counts;
}

/** Everything needed to turn records into class labels, as plain JSON: the metric and its fitted bins. */
export interface FittedEngagementTarget {
  metric: MetricSpec;
  bins: FittedBins;
}

export interface EngagementTargetOptions {
  metric?: MetricName | MetricSpec;
  /** Number of equal-frequency classes (default 3: low / medium / high). Ignored when `thresholds` is given. */
  classes?: number;
  labels?: readonly string[];
  /** Fixed thresholds instead of train quantiles. */
  thresholds?: readonly number[];
}

/** Fit the target on the training rows only: metric scores, then their quantile thresholds (or fixed ones). */
export function fitEngagementTarget(
  trainRecords: readonly EngagementCounts[],
  options: EngagementTargetOptions = {},
): FittedEngagementTarget {
  const metric: MetricSpec = typeof options.metric === "string" ? { name: options.metric } : options.metric ?? { name: "M2" };
  if (options.thresholds) return { metric, bins: fixedBins(options.thresholds, options.labels) };
  const scores = engagementScores(trainRecords, metric);
  return { metric, bins: fitQuantileBins(scores, options.classes ?? 3, options.labels) };
}

/** Class index per record under a fitted target. */
export function engagementClasses(target: FittedEngagementTarget, records: readonly EngagementCounts[]): number[] {
  return assignBins(target.bins, engagementScores(records, target.metric));
}
