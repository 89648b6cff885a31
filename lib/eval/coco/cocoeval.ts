import type { CocoAnnotation, CocoBox, CocoDetection, CocoInstances } from "../../data/coco";

/**
 * pycocotools' COCOeval for iouType "bbox", number for number: the same parameters, per-image matching, accumulation
 * into precision[T,R,K,A,M] / recall[T,K,A,M] and the 12 summary statistics. Written from the published behaviour and
 * checked against pycocotools itself (test/eval/coco). Conventions kept on purpose, because users compare with it:
 * - -1 for a category with no (non-crowd) ground truth in an area range: it is left out of every mean;
 * - a detection's area is w·h of its box; a ground truth's area is its `area` field (a mask area in COCO), not its box;
 * - per image and category only the `maxDets[-1]` highest-scoring detections are matched (stable order on ties);
 * - ground truth marked iscrowd can match many detections, which are then ignored (neither TP nor FP);
 * - a matched ground truth is recorded by its id, and a match to ground truth id 0 counts as no match (pycocotools
 *   tests the id for truth) — keep annotation ids ≥ 1, as COCO does.
 */

export interface CocoEvalParams {
  imgIds: number[];
  catIds: number[];
  iouThrs: number[];
  recThrs: number[];
  maxDets: number[];
  areaRng: Array<[number, number]>;
  areaRngLbl: string[];
}

/** numpy.linspace(start, stop, num) with the same floating-point steps (values are compared exactly). */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const values = Array.from({ length: num }, (_, i) => i * step + start);
  values[num - 1] = stop;
  return values;
}

/** COCOeval's default bbox parameters over every image and category of the ground truth (sorted ids). */
export function defaultCocoEvalParams(gt: CocoInstances): CocoEvalParams {
  return {
    imgIds: [...new Set(gt.images.map((image) => image.id))].sort((a, b) => a - b),
    catIds: [...new Set(gt.categories.map((category) => category.id))].sort((a, b) => a - b),
    iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
    recThrs: linspace(0, 1, Math.round((1 - 0) / 0.01) + 1),
    maxDets: [1, 10, 100],
    areaRng: [
      [0 ** 2, 1e5 ** 2],
      [0 ** 2, 32 ** 2],
      [32 ** 2, 96 ** 2],
      [96 ** 2, 1e5 ** 2],
    ],
    areaRngLbl: ["all", "small", "medium", "large"],
  };
}

interface EvalDet {
  id: number;
  bbox: CocoBox;
  area: number;
  score: number;
  categoryId: number;
}

/** The result of matching one image × category × area range (pycocotools' evalImgs entry). */
export interface EvalImage {
  imageId: number;
  categoryId: number;
  areaRng: [number, number];
  maxDet: number;
  dtIds: number[];
  gtIds: number[];
  /** [T][D]: id of the matched ground truth, 0 when unmatched. */
  dtMatches: Float64Array[];
  /** [T][G]: id of the matched detection, 0 when unmatched. */
  gtMatches: Float64Array[];
  dtScores: number[];
  gtIgnore: Uint8Array;
  /** [T][D]: 1 when the detection is ignored (matched to an ignored ground truth, or unmatched and outside the range). */
  dtIgnore: Uint8Array[];
}

export interface CocoEvalResult {
  params: CocoEvalParams;
  /** [T, R, K, A, M] as in pycocotools (index with precisionAt). -1 where a category has no ground truth. */
  precision: Float64Array;
  /** [T, K, A, M]. */
  recall: Float64Array;
  /** [T, R, K, A, M]: the score of the detection at each recall point. */
  scores: Float64Array;
  counts: [number, number, number, number, number];
  /** K × A × I entries in pycocotools' order (null where an image has neither ground truth nor detections). */
  evalImgs: Array<EvalImage | null>;
  /** The 12 numbers of COCOeval.summarize() (stats[0…11]). */
  stats: number[];
}

/** pycocotools' maskApi bbIou: IoU of every detection with every ground truth; for crowd ground truth, intersection / detection area. */
export function boxIou(dt: CocoBox, gt: CocoBox, crowd: boolean): number {
  const w = Math.min(dt[2] + dt[0], gt[2] + gt[0]) - Math.max(dt[0], gt[0]);
  if (w <= 0) return 0;
  const h = Math.min(dt[3] + dt[1], gt[3] + gt[1]) - Math.max(dt[1], gt[1]);
  if (h <= 0) return 0;
  const intersection = w * h;
  const da = dt[2] * dt[3];
  const union = crowd ? da : da + gt[2] * gt[3] - intersection;
  return intersection / union;
}

/** Stable order by descending score (numpy argsort(-score, kind="mergesort")). */
function byScoreDescending<T extends { score: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.score - a.item.score || a.index - b.index)
    .map(({ item }) => item);
}

function key(imageId: number, categoryId: number): string {
  return `${imageId}:${categoryId}`;
}

/**
 * COCOeval(gt, dt, "bbox").evaluate(); accumulate(); summarize() — `params` may replace any default (as assigning
 * `cocoEval.params.x` does); summarize() assumes the default area labels and three maxDets.
 */
export function evaluateCoco(gt: CocoInstances, detections: readonly CocoDetection[], params: Partial<CocoEvalParams> = {}): CocoEvalResult {
  const p: CocoEvalParams = { ...defaultCocoEvalParams(gt), ...params };
  p.imgIds = [...new Set(p.imgIds)].sort((a, b) => a - b);
  p.catIds = [...new Set(p.catIds)].sort((a, b) => a - b);
  p.maxDets = [...p.maxDets].sort((a, b) => a - b);
  const imgSet = new Set(p.imgIds);
  const catSet = new Set(p.catIds);

  // _prepare: ground truth and detections per (image, category), in file order (pycocotools walks images in imgIds
  // order, then each image's annotations in file order; within one image and category that is file order).
  const gts = new Map<string, CocoAnnotation[]>();
  for (const ann of gt.annotations) {
    if (!imgSet.has(ann.image_id) || !catSet.has(ann.category_id)) continue;
    const k = key(ann.image_id, ann.category_id);
    (gts.get(k) ?? gts.set(k, []).get(k)!).push(ann);
  }
  const dts = new Map<string, EvalDet[]>();
  detections.forEach((d, index) => {
    if (!imgSet.has(d.image_id) || !catSet.has(d.category_id)) return;
    const k = key(d.image_id, d.category_id);
    const det: EvalDet = { id: index + 1, bbox: d.bbox, area: d.bbox[2] * d.bbox[3], score: d.score, categoryId: d.category_id };
    (dts.get(k) ?? dts.set(k, []).get(k)!).push(det);
  });

  const T = p.iouThrs.length;
  const maxDetLast = p.maxDets[p.maxDets.length - 1];

  // computeIoU: detections sorted by score and cut to maxDets[-1]; ground truth in file order. ious[d][g].
  const iousByKey = new Map<string, number[][]>();
  for (const imgId of p.imgIds) {
    for (const catId of p.catIds) {
      const k = key(imgId, catId);
      const g = gts.get(k) ?? [];
      const d = byScoreDescending(dts.get(k) ?? []).slice(0, maxDetLast);
      if (g.length === 0 || d.length === 0) continue;
      iousByKey.set(k, d.map((det) => g.map((ann) => boxIou(det.bbox, ann.bbox, ann.iscrowd === 1))));
    }
  }

  function evaluateImg(imgId: number, catId: number, aRng: [number, number], maxDet: number): EvalImage | null {
    const k = key(imgId, catId);
    const gtAll = gts.get(k) ?? [];
    const dtAll = dts.get(k) ?? [];
    if (gtAll.length === 0 && dtAll.length === 0) return null;
    const ignoreFlags = gtAll.map((g) => (g.iscrowd === 1 || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
    // Ground truth not ignored first (stable), detections by score, at most maxDet.
    const gtOrder = gtAll.map((_, i) => i).sort((a, b) => ignoreFlags[a] - ignoreFlags[b] || a - b);
    const gtList = gtOrder.map((i) => gtAll[i]);
    const gtIg = Uint8Array.from(gtOrder.map((i) => ignoreFlags[i]));
    const dtList = byScoreDescending(dtAll).slice(0, maxDet);
    const iscrowd = gtList.map((g) => g.iscrowd === 1);
    const iousFull = iousByKey.get(k);
    const G = gtList.length;
    const D = dtList.length;
    const gtm = Array.from({ length: T }, () => new Float64Array(G));
    const dtm = Array.from({ length: T }, () => new Float64Array(D));
    const dtIg = Array.from({ length: T }, () => new Uint8Array(D));
    if (iousFull) {
      const ious = iousFull.map((row) => gtOrder.map((gi) => row[gi]));
      p.iouThrs.forEach((t, tind) => {
        dtList.forEach((d, dind) => {
          let iou = Math.min(t, 1 - 1e-10);
          let m = -1;
          for (let gind = 0; gind < G; gind++) {
            // A matched ground truth is taken (crowds can match again); once a real match exists, stop at the ignored ones.
            if (gtm[tind][gind] > 0 && !iscrowd[gind]) continue;
            if (m > -1 && gtIg[m] === 0 && gtIg[gind] === 1) break;
            if (ious[dind][gind] < iou) continue;
            iou = ious[dind][gind];
            m = gind;
          }
          if (m === -1) return;
          dtIg[tind][dind] = gtIg[m];
          dtm[tind][dind] = gtList[m].id;
          gtm[tind][m] = d.id;
        });
      });
    }
    for (let dind = 0; dind < D; dind++) {
      const outside = dtList[dind].area < aRng[0] || dtList[dind].area > aRng[1];
      if (!outside) continue;
      for (let t = 0; t < T; t++) if (dtm[t][dind] === 0) dtIg[t][dind] = 1;
    }
    return {
      imageId: imgId,
      categoryId: catId,
      areaRng: aRng,
      maxDet,
      dtIds: dtList.map((d) => d.id),
      gtIds: gtList.map((g) => g.id),
      dtMatches: dtm,
      gtMatches: gtm,
      dtScores: dtList.map((d) => d.score),
      gtIgnore: gtIg,
      dtIgnore: dtIg,
    };
  }

  const evalImgs: Array<EvalImage | null> = [];
  for (const catId of p.catIds) for (const aRng of p.areaRng) for (const imgId of p.imgIds) evalImgs.push(evaluateImg(imgId, catId, aRng, maxDetLast));

  const accumulated = accumulate(evalImgs, p);
  const result: CocoEvalResult = { params: p, ...accumulated, evalImgs, stats: [] };
  result.stats = summarizeStats(result);
  return result;
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

/** First index i with sorted[i] >= value (numpy searchsorted side="left"). */
function searchSortedLeft(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function accumulate(evalImgs: Array<EvalImage | null>, p: CocoEvalParams): Pick<CocoEvalResult, "precision" | "recall" | "scores" | "counts"> {
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const K = p.catIds.length;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const I = p.imgIds.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const scores = new Float64Array(T * R * K * A * M).fill(-1);
  const pIndex = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIndex = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;

  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E = evalImgs.slice((k * A + a) * I, (k * A + a + 1) * I).filter((e): e is EvalImage => e !== null);
      if (E.length === 0) continue;
      let npig = 0;
      for (const e of E) for (const ig of e.gtIgnore) if (ig === 0) npig++;
      if (npig === 0) continue;
      p.maxDets.forEach((maxDet, m) => {
        // Every image's top maxDet detections, merged by score (stable: image order, then per-image rank).
        const entries: Array<{ score: number; e: EvalImage; d: number }> = [];
        for (const e of E) for (let d = 0; d < Math.min(maxDet, e.dtScores.length); d++) entries.push({ score: e.dtScores[d], e, d });
        const sorted = byScoreDescending(entries);
        const nd = sorted.length;
        for (let t = 0; t < T; t++) {
          const rc = new Float64Array(nd);
          const pr = new Array<number>(nd);
          let tp = 0;
          let fp = 0;
          sorted.forEach(({ e, d }, i) => {
            const ignored = e.dtIgnore[t][d] === 1;
            const matched = e.dtMatches[t][d] !== 0;
            if (matched && !ignored) tp++;
            if (!matched && !ignored) fp++;
            rc[i] = tp / npig;
            pr[i] = tp / (fp + tp + EPS);
          });
          recall[rIndex(t, k, a, m)] = nd ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          for (let r = 0; r < R; r++) {
            const pi = searchSortedLeft(rc, p.recThrs[r]);
            // pycocotools stops at the first recall point beyond the curve; the rest stay 0.
            if (pi >= nd) {
              for (let rr = r; rr < R; rr++) {
                precision[pIndex(t, rr, k, a, m)] = 0;
                scores[pIndex(t, rr, k, a, m)] = 0;
              }
              break;
            }
            precision[pIndex(t, r, k, a, m)] = pr[pi];
            scores[pIndex(t, r, k, a, m)] = sorted[pi].score;
          }
        }
      });
    }
  }
  return { precision, recall, scores, counts: [T, R, K, A, M] };
}

/** Mean of the entries > -1 of a selection (-1 when there are none), as COCOeval._summarize. */
function meanValid(values: Iterable<number>): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v > -1) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? -1 : sum / n;
}

export interface SummarizeSelection {
  /** true: average precision; false: average recall. */
  ap: boolean;
  /** One IoU threshold (must be one of params.iouThrs), or all when absent. */
  iouThr?: number;
  areaRng?: string;
  maxDets?: number;
  /** Restrict to these category indices (positions in params.catIds); all when absent. */
  categories?: number[];
}

/** COCOeval._summarize over a selection: mean of precision (or recall) entries > -1; -1 when there is none. */
export function summarizeSelection(result: CocoEvalResult, selection: SummarizeSelection): number {
  const { params: p, precision, recall } = result;
  const [T, R, K, A, M] = result.counts;
  const a = p.areaRngLbl.indexOf(selection.areaRng ?? "all");
  const m = p.maxDets.indexOf(selection.maxDets ?? 100);
  if (a < 0 || m < 0) return -1;
  const ts = selection.iouThr === undefined ? [...Array(T).keys()] : p.iouThrs.flatMap((thr, t) => (thr === selection.iouThr ? [t] : []));
  const ks = selection.categories ?? [...Array(K).keys()];
  const values: number[] = [];
  for (const t of ts) {
    for (const k of ks) {
      if (selection.ap) for (let r = 0; r < R; r++) values.push(precision[(((t * R + r) * K + k) * A + a) * M + m]);
      else values.push(recall[((t * K + k) * A + a) * M + m]);
    }
  }
  // pycocotools orders the selection [T, R, K] for AP; the mean does not depend on the order beyond rounding.
  return meanValid(values);
}

function summarizeStats(result: CocoEvalResult): number[] {
  const md = result.params.maxDets;
  const s = (ap: boolean, extra: Omit<SummarizeSelection, "ap"> = {}) => summarizeSelection(result, { ap, ...extra });
  return [
    s(true),
    s(true, { iouThr: 0.5, maxDets: md[2] }),
    s(true, { iouThr: 0.75, maxDets: md[2] }),
    s(true, { areaRng: "small", maxDets: md[2] }),
    s(true, { areaRng: "medium", maxDets: md[2] }),
    s(true, { areaRng: "large", maxDets: md[2] }),
    s(false, { maxDets: md[0] }),
    s(false, { maxDets: md[1] }),
    s(false, { maxDets: md[2] }),
    s(false, { areaRng: "small", maxDets: md[2] }),
    s(false, { areaRng: "medium", maxDets: md[2] }),
    s(false, { areaRng: "large", maxDets: md[2] }),
  ];
}
