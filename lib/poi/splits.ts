/**
 * The POI table's split: rows sharing an id or an image path stay together (lib/features' grouped split machinery),
 * stratified by engagement quantile bins.
 */
import { stratifiedGroupKFold, stratifiedGroupSplit, type FoldIndices, type SplitIndices } from "../features";
import { engagementScores, type MetricName } from "./engagement";
import { assignBins, fitQuantileBins } from "./engagement-classes";
import type { PoiRecord } from "./record";

/** How the POI data is grouped: rows sharing an id or an image path stay together. */
export function poiGroupKeys(r: Pick<PoiRecord, "id" | "mainImagePath">): string[] {
  return [`id:${r.id}`, `image:${r.mainImagePath}`];
}

/**
 * Labels used ONLY to balance the split: quantile bins of the engagement metric over all rows.
 * Why this does not leak: these labels decide which part a row goes to, never a model input or a training label.
 * The real class thresholds are fitted afterwards on the training part alone (fitEngagementTarget(train)).
 */
export function stratificationLabels(
  records: readonly Pick<PoiRecord, "Visits" | "Likes" | "Dislikes" | "Bookmarks" | "row">[],
  options: { metric?: MetricName; bins?: number } = {},
): number[] {
  const scores = engagementScores(records, options.metric ?? "M2");
  return assignBins(fitQuantileBins(scores, options.bins ?? 3), scores);
}

export interface PoiSplit<R> {
  train: R[];
  val: R[];
  test: R[];
  indices: SplitIndices;
}

export interface PoiSplitOptions {
  seed: number;
  testFraction?: number;
  valFraction?: number;
  /** Metric whose quantile bins stratify the split (default M2, 3 bins). */
  stratifyMetric?: MetricName;
  stratifyBins?: number;
}

/** The project's split of POI records: grouped by id and image path, stratified by engagement tertile (see above). */
export function splitPoiRecords<R extends PoiRecord>(records: readonly R[], options: PoiSplitOptions): PoiSplit<R> {
  const labels = stratificationLabels(records, { metric: options.stratifyMetric, bins: options.stratifyBins });
  const indices = stratifiedGroupSplit(records, {
    seed: options.seed,
    testFraction: options.testFraction,
    valFraction: options.valFraction,
    groupKeys: poiGroupKeys,
    stratify: (_, i) => labels[i],
  });
  const pick = (ix: number[]) => ix.map((i) => records[i]);
  return { train: pick(indices.train), val: pick(indices.val), test: pick(indices.test), indices };
}

/** k-fold over POI records with the same grouping and stratification as splitPoiRecords. */
export function poiKFold<R extends PoiRecord>(
  records: readonly R[],
  options: { k: number; seed: number; stratifyMetric?: MetricName; stratifyBins?: number },
): FoldIndices[] {
  const labels = stratificationLabels(records, { metric: options.stratifyMetric, bins: options.stratifyBins });
  return stratifiedGroupKFold(records, { k: options.k, seed: options.seed, groupKeys: poiGroupKeys, stratify: (_, i) => labels[i] });
}
