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

/** How one image's detections (score ≥ threshold) pair with its ground truth, class-agnostic, best IoU first. */
export interface ImageMatch {
  imageId: number;
  /** [ground-truth category id, detected category id] of each matched pair (equal ids = a true positive). */
  pairs: Array<[number, number]>;
  /** Category ids of ground truth no detection matched. */
  missed: number[];
  /** Category ids of detections that matched no ground truth. */
  spurious: number[];
}

/**
 * Per image: detections scored ≥ scoreThreshold are matched to ground truth of any class by IoU ≥ iouThreshold,
 * highest-IoU pairs first, each box used once (the matching of YOLO-style confusion matrices). Crowd ground truth is
 * left out, and so are detections that overlap a crowd region (IoU over the detection ≥ threshold) and no object.
 */
export function matchDetections(
  gt: CocoInstances,
  detections: readonly CocoDetection[],
  options: { scoreThreshold?: number; iouThreshold?: number } = {},
): ImageMatch[] {
  const scoreThreshold = options.scoreThreshold ?? 0.5;
  const iouThreshold = options.iouThreshold ?? 0.5;
  const known = new Set(gt.categories.map((c) => c.id));
  const gtByImage = new Map<number, typeof gt.annotations>();
  for (const ann of gt.annotations) (gtByImage.get(ann.image_id) ?? gtByImage.set(ann.image_id, []).get(ann.image_id)!).push(ann);
  const dtByImage = new Map<number, CocoDetection[]>();
  for (const d of detections) {
    if (d.score < scoreThreshold || !known.has(d.category_id)) continue;
    (dtByImage.get(d.image_id) ?? dtByImage.set(d.image_id, []).get(d.image_id)!).push(d);
  }
  return gt.images.map((image) => {
    const all = gtByImage.get(image.id) ?? [];
    const truths = all.filter((g) => g.iscrowd === 0);
    const crowds = all.filter((g) => g.iscrowd === 1);
    const dets = (dtByImage.get(image.id) ?? []).filter(
      (d) => !crowds.some((c) => boxIou(d.bbox, c.bbox, true) >= iouThreshold) || truths.some((g) => boxIou(d.bbox, g.bbox, false) >= iouThreshold),
    );
    const candidates: Array<{ iou: number; g: number; d: number }> = [];
    truths.forEach((g, gi) =>
      dets.forEach((d, di) => {
        const iou = boxIou(d.bbox, g.bbox, false);
        if (iou >= iouThreshold) candidates.push({ iou, g: gi, d: di });
      }),
    );
    candidates.sort((x, y) => y.iou - x.iou || x.g - y.g || x.d - y.d);
    const gUsed = new Uint8Array(truths.length);
    const dUsed = new Uint8Array(dets.length);
    const pairs: Array<[number, number]> = [];
    for (const { g, d } of candidates) {
      if (gUsed[g] || dUsed[d]) continue;
      gUsed[g] = 1;
      dUsed[d] = 1;
      pairs.push([truths[g].category_id, dets[d].category_id]);
    }
    return {
      imageId: image.id,
      pairs,
      missed: truths.filter((_, gi) => !gUsed[gi]).map((g) => g.category_id),
      spurious: dets.filter((_, di) => !dUsed[di]).map((d) => d.category_id),
    };
  });
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

/** Detection confusion matrix with a background row and column, from matchDetections. */
export function detectionConfusionMatrix(
  gt: CocoInstances,
  detections: readonly CocoDetection[],
  options: { scoreThreshold?: number; iouThreshold?: number } = {},
): DetectionConfusion {
  const scoreThreshold = options.scoreThreshold ?? 0.5;
  const iouThreshold = options.iouThreshold ?? 0.5;
  const catIds = gt.categories.map((c) => c.id).sort((a, b) => a - b);
  const index = new Map(catIds.map((id, k) => [id, k]));
  const names = new Map(gt.categories.map((c) => [c.id, c.name]));
  const K = catIds.length;
  const counts = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(0));
  for (const match of matchDetections(gt, detections, { scoreThreshold, iouThreshold })) {
    for (const [t, p] of match.pairs) counts[index.get(t)!][index.get(p)!]++;
    for (const t of match.missed) counts[index.get(t)!][K]++;
    for (const p of match.spurious) counts[K][index.get(p)!]++;
  }
  return { labels: [...catIds.map((id) => names.get(id) ?? String(id)), "background"], counts, scoreThreshold, iouThreshold };
}

/** Per image: errors at a score threshold (missed + spurious + wrong class), for finding the worst images. */
export interface ImageErrors {
  imageId: number;
  fileName: string;
  objects: number;
  correct: number;
  wrongClass: number;
  missed: number;
  spurious: number;
  errors: number;
}

export function imageErrors(gt: CocoInstances, detections: readonly CocoDetection[], options: { scoreThreshold?: number; iouThreshold?: number } = {}): ImageErrors[] {
  const files = new Map(gt.images.map((image) => [image.id, image.file_name]));
  return matchDetections(gt, detections, options)
    .map((m) => {
      const correct = m.pairs.filter(([t, p]) => t === p).length;
      const wrongClass = m.pairs.length - correct;
      return {
        imageId: m.imageId,
        fileName: files.get(m.imageId) ?? "",
        objects: m.pairs.length + m.missed.length,
        correct,
        wrongClass,
        missed: m.missed.length,
        spurious: m.spurious.length,
        errors: wrongClass + m.missed.length + m.spurious.length,
      };
    })
    .sort((a, b) => b.errors - a.errors || a.imageId - b.imageId);
}
