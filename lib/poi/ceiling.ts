/**
 * Why accuracy stops near 0.86 on this table: the structure of the target, computed from the data (the target
 * columns DESCRIBE here; they never become model inputs).
 *
 *   const structure = targetStructure(records, { k: 7, seed: 0 });   // GMM clusters of log counts, scaled copies, cut
 *   const dup = duplicateIdRows(records, classes);                   // rows sharing an id: identical inputs but a tag
 *   const bound = accuracyCeiling(dup, outOfFoldPredictions);        // what those rows cap, with the derivation
 *
 * - (log10 Likes, Dislikes, Bookmarks) form a few tight clusters; some clusters are copies of others with every
 *   count multiplied by one factor (a shift of the same size on all three log axes). M2 = (Likes+Bookmarks)/Visits −
 *   Dislikes/(Likes+Bookmarks) moves with that factor, so a scaled copy of a "medium" cluster lands in "high".
 * - Rows sharing an id have the same name, description, categories, tier, location, xps and photo, and differ in one
 *   tag. Any model gives them (nearly) the same prediction, so on those rows it can at best be right on each id's most
 *   common class: Σ_ids max-class-count / rows. Their targets disagree, which caps the whole table.
 */
import { fitGaussianMixture, gmmBic, predictGaussianMixture } from "../features/gmm";
import type { PoiRecord } from "./record";

export interface TargetCluster {
  cluster: number;
  rows: number;
  /** Mean log10(1 + count) of Likes, Dislikes, Bookmarks. */
  meanLog: [number, number, number];
  /** Rows of each class in the cluster (classes as given). */
  classCounts: number[];
}

export interface ScaledCopy {
  /** Cluster `copy` ≈ cluster `base` with every count × factor. */
  base: number;
  copy: number;
  /** Shift on each log10 axis, and the factor 10^(mean shift). */
  shifts: [number, number, number];
  factor: number;
}

export interface TargetStructure {
  clusters: TargetCluster[];
  /** Cluster of each row. */
  assignment: number[];
  scaledCopies: ScaledCopy[];
  /** BIC of the mixture for k − 1, k, k + 1 components (lower is better), to show k is not arbitrary. */
  bic: { k: number; bic: number }[];
}

const logCounts = (r: PoiRecord): [number, number, number] => [Math.log10(1 + r.Likes), Math.log10(1 + r.Dislikes), Math.log10(1 + r.Bookmarks)];

/**
 * Clusters of the log counts (GMM, full covariances), their class mix, and the pairs of clusters whose means differ
 * by one shift on all three axes (|shift| ≥ minShift, spread of the three shifts ≤ maxSpread).
 */
export function targetStructure(
  records: readonly PoiRecord[],
  classes: readonly number[],
  options: { k?: number; seed?: number; numClasses?: number; minShift?: number; maxSpread?: number } = {},
): TargetStructure {
  const k = options.k ?? 7;
  const seed = options.seed ?? 0;
  const numClasses = options.numClasses ?? Math.max(...classes) + 1;
  const points = records.map(logCounts);
  const bic = [k - 1, k, k + 1].map((kk) => ({ k: kk, bic: gmmBic(fitGaussianMixture(points, { k: kk, seed }), points.length) }));
  const gmm = fitGaussianMixture(points, { k, seed });
  const assignment = predictGaussianMixture(gmm, points);
  const clusters: TargetCluster[] = gmm.means
    .map((_, c) => {
      const members = assignment.flatMap((a, i) => (a === c ? [i] : []));
      const meanLog = [0, 1, 2].map((j) => members.reduce((s, i) => s + points[i][j], 0) / Math.max(members.length, 1)) as [number, number, number];
      const classCounts = new Array<number>(numClasses).fill(0);
      for (const i of members) classCounts[classes[i]]++;
      return { cluster: c, rows: members.length, meanLog, classCounts };
    })
    .filter((c) => c.rows > 0)
    // Number clusters by their position along the count axes, so the same data gives the same names on every run.
    .sort((a, b) => a.meanLog[0] + a.meanLog[2] - (b.meanLog[0] + b.meanLog[2]));
  const renumber = new Map(clusters.map((c, i) => [c.cluster, i]));
  clusters.forEach((c, i) => (c.cluster = i));
  const minShift = options.minShift ?? 0.25;
  const maxSpread = options.maxSpread ?? 0.1;
  const scaledCopies: ScaledCopy[] = [];
  for (const base of clusters) {
    for (const copy of clusters) {
      const shifts = [0, 1, 2].map((j) => copy.meanLog[j] - base.meanLog[j]) as [number, number, number];
      const mean = (shifts[0] + shifts[1] + shifts[2]) / 3;
      const spread = Math.max(...shifts) - Math.min(...shifts);
      if (mean >= minShift && spread <= maxSpread) scaledCopies.push({ base: base.cluster, copy: copy.cluster, shifts, factor: 10 ** mean });
    }
  }
  return { clusters, assignment: assignment.map((a) => renumber.get(a)!), scaledCopies, bic };
}

export interface DuplicateIdRows {
  /** Row indices of every id that occurs more than once. */
  rows: number[];
  ids: number;
  /** Rows right if every such id got its most common class: the most any model with identical inputs can score. */
  majorityRight: number;
  /** majorityRight / rows.length. */
  majorityAccuracy: number;
  /** How many of those ids have rows in more than one class. */
  idsWithMixedClasses: number;
}

export function duplicateIdRows(records: readonly PoiRecord[], classes: readonly number[]): DuplicateIdRows {
  const byId = new Map<string, number[]>();
  records.forEach((r, i) => byId.set(r.id, [...(byId.get(r.id) ?? []), i]));
  const groups = [...byId.values()].filter((g) => g.length > 1);
  let majorityRight = 0;
  let mixed = 0;
  for (const g of groups) {
    const counts = new Map<number, number>();
    for (const i of g) counts.set(classes[i], (counts.get(classes[i]) ?? 0) + 1);
    majorityRight += Math.max(...counts.values());
    if (counts.size > 1) mixed++;
  }
  const rows = groups.flat().sort((a, b) => a - b);
  return { rows, ids: groups.length, majorityRight, majorityAccuracy: rows.length ? majorityRight / rows.length : NaN, idsWithMixedClasses: mixed };
}

export interface AccuracyCeiling {
  rows: number;
  duplicateRows: number;
  duplicateIds: number;
  /** A model's out-of-fold accuracy on the duplicate-id rows and on the others. */
  modelOnDuplicates: number;
  modelOnOthers: number;
  /** The most any model can score on the duplicate-id rows (each id's most common class). */
  duplicateMajority: number;
  /**
   * The realistic ceiling: the model's accuracy on the other rows kept, and the duplicate-id rows at their majority
   * bound: (others · modelOnOthers + duplicates · duplicateMajority) / rows.
   */
  ceiling: number;
}

/**
 * From out-of-fold predictions (every row predicted once, by a model that never trained on it; `truth` is the class
 * its fold's train-fitted target gave the row — grouped folds keep an id's rows together, so they share thresholds).
 */
export function accuracyCeiling(records: readonly PoiRecord[], oof: { rows: readonly number[]; truth: readonly number[]; predictions: readonly number[] }): AccuracyCeiling {
  const n = records.length;
  if (oof.rows.length !== n || oof.truth.length !== n || oof.predictions.length !== n) throw new Error(`accuracyCeiling: need one out-of-fold prediction per row (${n}), got ${oof.rows.length}`);
  const truth = new Array<number>(n).fill(-1);
  const predicted = new Array<number>(n).fill(-1);
  oof.rows.forEach((row, i) => {
    truth[row] = oof.truth[i];
    predicted[row] = oof.predictions[i];
  });
  if (truth.includes(-1)) throw new Error("accuracyCeiling: some rows have no out-of-fold prediction");
  const dup = duplicateIdRows(records, truth);
  const isDuplicate = new Set(dup.rows);
  let dupRight = 0;
  let otherRight = 0;
  for (let i = 0; i < n; i++) {
    if (truth[i] !== predicted[i]) continue;
    if (isDuplicate.has(i)) dupRight++;
    else otherRight++;
  }
  const others = n - dup.rows.length;
  const modelOnOthers = otherRight / Math.max(others, 1);
  return {
    rows: n,
    duplicateRows: dup.rows.length,
    duplicateIds: dup.ids,
    modelOnDuplicates: dupRight / Math.max(dup.rows.length, 1),
    modelOnOthers,
    duplicateMajority: dup.majorityAccuracy,
    ceiling: (others * modelOnOthers + dup.majorityRight) / n,
  };
}
