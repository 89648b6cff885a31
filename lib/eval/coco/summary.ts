import type { CocoDetection, CocoInstances } from "../../data/coco";
import { boxIou, summarizeSelection, type CocoEvalResult } from "./cocoeval";

/** The 12 COCOeval numbers under the names the `coco-eval` command prints. */
export const COCO_STAT_NAMES = [
  "ap",
  "ap50",
  "ap75",
  "ap_small",
  "ap_medium",
  "ap_large",
  "ar1",
  "ar10",
  "ar100",
  "ar_small",
  "ar_medium",
  "ar_large",
] as const;
export type CocoStatName = (typeof COCO_STAT_NAMES)[number];
export type CocoStats = Record<CocoStatName, number>;

/** The labels pycocotools prints for each of the 12 numbers. */
export const COCO_STAT_LABELS: Record<CocoStatName, string> = {
  ap: "AP @[IoU=0.50:0.95 | area=all | maxDets=100]",
  ap50: "AP @[IoU=0.50 | area=all | maxDets=100]",
  ap75: "AP @[IoU=0.75 | area=all | maxDets=100]",
  ap_small: "AP @[IoU=0.50:0.95 | area=small | maxDets=100]",
  ap_medium: "AP @[IoU=0.50:0.95 | area=medium | maxDets=100]",
  ap_large: "AP @[IoU=0.50:0.95 | area=large | maxDets=100]",
  ar1: "AR @[IoU=0.50:0.95 | area=all | maxDets=1]",
  ar10: "AR @[IoU=0.50:0.95 | area=all | maxDets=10]",
  ar100: "AR @[IoU=0.50:0.95 | area=all | maxDets=100]",
  ar_small: "AR @[IoU=0.50:0.95 | area=small | maxDets=100]",
  ar_medium: "AR @[IoU=0.50:0.95 | area=medium | maxDets=100]",
  ar_large: "AR @[IoU=0.50:0.95 | area=large | maxDets=100]",
};

export function namedStats(result: CocoEvalResult): CocoStats {
  return Object.fromEntries(COCO_STAT_NAMES.map((name, i) => [name, result.stats[i]])) as CocoStats;
}

/** Per category: AP@[.5:.95] and AP50 (area all, 100 detections), -1 where the category has no ground truth. */
export interface ClassAp {
  ap: number;
  ap50: number;
}

function categoryNames(gt: CocoInstances, result: CocoEvalResult): string[] {
  const byId = new Map(gt.categories.map((c) => [c.id, c.name]));
  return result.params.catIds.map((id) => byId.get(id) ?? String(id));
}

export function perClassAp(gt: CocoInstances, result: CocoEvalResult): Record<string, ClassAp> {
  const names = categoryNames(gt, result);
  return Object.fromEntries(
    names.map((name, k) => [
      name,
      { ap: summarizeSelection(result, { ap: true, categories: [k] }), ap50: summarizeSelection(result, { ap: true, iouThr: 0.5, categories: [k] }) },
    ]),
  );
}

/** The `coco-eval` command's JSON: the 12 numbers plus per_class {ap, ap50}. */
export function cocoEvalJson(gt: CocoInstances, result: CocoEvalResult): CocoStats & { per_class: Record<string, ClassAp> } {
  return { ...namedStats(result), per_class: perClassAp(gt, result) };
}

/** Precision, recall and counts of one category for the detections scored ≥ a threshold, with COCOeval's matches. */
export interface ClassPrecisionRecall {
  category: string;
  categoryId: number;
  /** Ground truth that counts (not crowd). */
  groundTruth: number;
  detections: number;
  truePositives: number;
  falsePositives: number;
  /** NaN when no detection reaches the threshold. */
  precision: number;
  /** NaN when the category has no ground truth. */
  recall: number;
  f1: number;
  ap: number;
  ap50: number;
}

/**
 * Precision and recall at a score threshold and one IoU threshold (default 0.5), per category, from COCOeval's own
 * matching (area "all", maxDets[-1] detections per image): detections matched to crowd regions are not counted.
 */
export function precisionRecallAtScore(gt: CocoInstances, result: CocoEvalResult, options: { scoreThreshold?: number; iouThr?: number } = {}): ClassPrecisionRecall[] {
  const scoreThreshold = options.scoreThreshold ?? 0.5;
  const iouThr = options.iouThr ?? 0.5;
  const p = result.params;
  const t = p.iouThrs.indexOf(iouThr);
  if (t < 0) throw new Error(`precisionRecallAtScore: IoU threshold ${iouThr} is not one of ${p.iouThrs.join(", ")}`);
  const a = p.areaRngLbl.indexOf("all");
  const I = p.imgIds.length;
  const A = p.areaRng.length;
  const names = categoryNames(gt, result);
  const perClass = perClassAp(gt, result);
  return p.catIds.map((categoryId, k) => {
    let groundTruth = 0;
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < I; i++) {
      const e = result.evalImgs[(k * A + a) * I + i];
      if (!e) continue;
      for (const ig of e.gtIgnore) if (ig === 0) groundTruth++;
      e.dtScores.forEach((score, d) => {
        if (score < scoreThreshold || e.dtIgnore[t][d] === 1) return;
        if (e.dtMatches[t][d] !== 0) tp++;
        else fp++;
      });
    }
    const precision = tp + fp > 0 ? tp / (tp + fp) : NaN;
    const recall = groundTruth > 0 ? tp / groundTruth : NaN;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    const name = names[k];
    return {
      category: name,
      categoryId,
      groundTruth,
      detections: tp + fp,
      truePositives: tp,
      falsePositives: fp,
      precision,
      recall,
      f1,
      ap: perClass[name].ap,
      ap50: perClass[name].ap50,
    };
  });
}

/** COCOeval's interpolated precision at the 101 recall points, per category (area all, 100 detections). */
export interface PrCurve {
  category: string;
  recall: number[];
  /** -1 everywhere when the category has no ground truth (pycocotools' convention). */
  precision: number[];
}

export function prCurves(gt: CocoInstances, result: CocoEvalResult, options: { iouThr?: number } = {}): PrCurve[] {
  const p = result.params;
  const iouThr = options.iouThr ?? 0.5;
  const t = p.iouThrs.indexOf(iouThr);
  if (t < 0) throw new Error(`prCurves: IoU threshold ${iouThr} is not one of ${p.iouThrs.join(", ")}`);
  const [, R, K, A, M] = result.counts;
  const a = p.areaRngLbl.indexOf("all");
  const m = p.maxDets.length - 1;
  return categoryNames(gt, result).map((category, k) => ({
    category,
    recall: [...p.recThrs],
    precision: Array.from({ length: R }, (_, r) => result.precision[(((t * R + r) * K + k) * A + a) * M + m]),
  }));
}

export interface DetectionConfusion {
  /** Category names, then "background". */
  labels: string[];
  /**
   * counts[true][predicted], (K+1)×(K+1): row K ("background") holds detections that matched no ground truth (false
   * positives), column K holds ground truth that no detection matched (missed).
   */
  counts: number[][];
  scoreThreshold: number;
  iouThreshold: number;
}

/**
 * Detection confusion matrix (the form YOLO-style tools report): per image, detections scored ≥ scoreThreshold are
 * matched to ground truth of any class by IoU ≥ iouThreshold, highest-IoU pairs first, each box used once; a matched
 * pair counts at [true class][predicted class]; leftovers go to the background row / column. Crowd ground truth and
 * detections that overlap only crowd regions are left out.
 */
export function detectionConfusionMatrix(
  gt: CocoInstances,
  detections: readonly CocoDetection[],
  options: { scoreThreshold?: number; iouThreshold?: number } = {},
): DetectionConfusion {
  const scoreThreshold = options.scoreThreshold ?? 0.5;
  const iouThreshold = options.iouThreshold ?? 0.5;
  const catIds = [...gt.categories].map((c) => c.id).sort((a, b) => a - b);
  const index = new Map(catIds.map((id, k) => [id, k]));
  const names = new Map(gt.categories.map((c) => [c.id, c.name]));
  const K = catIds.length;
  const counts = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(0));
  const gtByImage = new Map<number, typeof gt.annotations>();
  for (const ann of gt.annotations) (gtByImage.get(ann.image_id) ?? gtByImage.set(ann.image_id, []).get(ann.image_id)!).push(ann);
  const dtByImage = new Map<number, CocoDetection[]>();
  for (const d of detections) {
    if (d.score < scoreThreshold || !index.has(d.category_id)) continue;
    (dtByImage.get(d.image_id) ?? dtByImage.set(d.image_id, []).get(d.image_id)!).push(d);
  }
  for (const image of gt.images) {
    const all = gtByImage.get(image.id) ?? [];
    const truths = all.filter((g) => g.iscrowd === 0);
    const crowds = all.filter((g) => g.iscrowd === 1);
    const dets = (dtByImage.get(image.id) ?? []).filter((d) => !crowds.some((c) => boxIou(d.bbox, c.bbox, true) >= iouThreshold) || truths.some((g) => boxIou(d.bbox, g.bbox, false) >= iouThreshold));
    const pairs: Array<{ iou: number; g: number; d: number }> = [];
    truths.forEach((g, gi) =>
      dets.forEach((d, di) => {
        const iou = boxIou(d.bbox, g.bbox, false);
        if (iou >= iouThreshold) pairs.push({ iou, g: gi, d: di });
      }),
    );
    pairs.sort((x, y) => y.iou - x.iou || x.g - y.g || x.d - y.d);
    const gUsed = new Uint8Array(truths.length);
    const dUsed = new Uint8Array(dets.length);
    for (const { g, d } of pairs) {
      if (gUsed[g] || dUsed[d]) continue;
      gUsed[g] = 1;
      dUsed[d] = 1;
      counts[index.get(truths[g].category_id)!][index.get(dets[d].category_id)!]++;
    }
    truths.forEach((g, gi) => {
      if (!gUsed[gi]) counts[index.get(g.category_id)!][K]++;
    });
    dets.forEach((d, di) => {
      if (!dUsed[di]) counts[K][index.get(d.category_id)!]++;
    });
  }
  return { labels: [...catIds.map((id) => names.get(id) ?? String(id)), "background"], counts, scoreThreshold, iouThreshold };
}
