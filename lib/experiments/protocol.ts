/**
 * The evaluation protocol: which rows train and which test, and every fitted step fitted on the training rows only.
 *
 *   const folds = cvFolds(data.records, { folds: 5, seed });           // grouped (id, image) + stratified
 *   const fold = prepareFold(data, folds[0].train, folds[0].val, { seed });
 *   fold.train.inputs.meta / .stats / .embedding, fold.train.y          // Float32Array row-major, class indices
 *
 * Fitted per fold, on the training rows only: the M2 tertile thresholds (the labels), the metadata feature pipeline
 * (encoders, KMeans location clusters, scalers) and the standard scalers of the image statistics and embeddings.
 * The target counts (Visits, Likes, Dislikes, Bookmarks) only ever produce `y`.
 */
import {
  fitEngagementTarget,
  engagementClasses,
  fitFeaturePipeline,
  transformFeatures,
  poiKFold,
  splitPoiRecords,
  DEFAULT_FEATURES,
  type FittedEngagementTarget,
  type PoiRecord,
  type FeaturePipelineSpec,
  type FittedFeaturePipeline,
} from "../poi";
import { applyScaler, fitPca, fitStandardScaler, transformPca, type FittedPca, type FoldIndices, type RowMatrix, type SplitIndices } from "../features";
import type { ExperimentData } from "./inputs";

export type InputName = "meta" | "stats" | "embedding";

export interface PartData {
  /** Row indices into data.records. */
  indices: number[];
  y: number[];
  inputs: Partial<Record<InputName, Float32Array>>;
}

export interface PreparedFold {
  train: PartData;
  test: PartData;
  /** Input widths. */
  dims: { meta: number; stats: number; embedding?: number };
  metaColumns: string[];
  target: FittedEngagementTarget;
  pipeline: FittedFeaturePipeline;
  /** The embedding PCA fitted on this fold's training rows, when used. */
  pca?: FittedPca;
  classLabels: string[];
}

export interface PrepareOptions {
  /** Seeds the KMeans location clusters. */
  seed: number;
  /** Metadata features (default: tags, categories, tier, xps, location clusters, scaled coordinates). */
  features?: FeaturePipelineSpec;
  /**
   * Train-fitted PCA components kept from the backbone embedding (default 64); null keeps the raw embedding
   * (standardised). The image branch then reads k numbers instead of 1280.
   */
  embeddingComponents?: number | null;
}

export const DEFAULT_EMBEDDING_COMPONENTS = 64;

/** The metadata features of the protocol. */
export function defaultFeatureSpec(seed: number): FeaturePipelineSpec {
  return { features: [...DEFAULT_FEATURES, "coordinates"], location: { k: 3, seed }, unknown: "zeros" };
}

/**
 * Fit everything on `trainIdx` rows and transform both parts. `extraParts` (e.g. a validation split) are
 * transformed with the same fitted steps.
 */
export function prepareFold(data: ExperimentData, trainIdx: readonly number[], testIdx: readonly number[], options: PrepareOptions): PreparedFold {
  // Comparing models fits the same folds' preprocessors once per model (notebook 05's CV: six models × five folds,
  // each with a 1280-d PCA); the fitted result depends only on the data, the two row lists and the options, so it is
  // kept for the process. Treat a returned fold as read-only: it may be shared.
  const key = `${objectId(data.records)}:${objectId(data.stats)}:${data.embedding ? objectId(data.embedding) : "-"}|${JSON.stringify(options)}|${trainIdx.join(",")}|${testIdx.join(",")}`;
  const cached = preparedFolds.get(key);
  if (cached) return cached;
  const fold = fitAndTransformFold(data, trainIdx, testIdx, options);
  preparedFolds.set(key, fold);
  while (preparedFolds.size > PREPARED_FOLDS_KEPT) preparedFolds.delete(preparedFolds.keys().next().value as string);
  return fold;
}

/** Enough for every fold of a few CV protocols (a fold of the POI table holds about 0.7 MB of inputs). */
const PREPARED_FOLDS_KEPT = 32;
const preparedFolds = new Map<string, PreparedFold>();
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
function objectId(value: object): number {
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, (id = nextObjectId++));
  return id;
}

function fitAndTransformFold(data: ExperimentData, trainIdx: readonly number[], testIdx: readonly number[], options: PrepareOptions): PreparedFold {
  const overlap = new Set(trainIdx);
  for (const i of testIdx) if (overlap.has(i)) throw new Error(`prepareFold: row index ${i} is in both train and test`);
  const records = data.records;
  const pick = (ix: readonly number[]): PoiRecord[] => ix.map((i) => records[i]);
  const trainRecords = pick(trainIdx);
  const target = fitEngagementTarget(trainRecords, { metric: "M2", classes: 3 });
  const pipeline = fitFeaturePipeline(trainRecords, options.features ?? defaultFeatureSpec(options.seed));
  const statsScaler = fitStandardScaler(data.stats, trainIdx);
  const components = options.embeddingComponents === undefined ? DEFAULT_EMBEDDING_COMPONENTS : options.embeddingComponents;
  let pca: FittedPca | undefined;
  let embeddingOf: ((ix: readonly number[]) => Float32Array) | undefined;
  if (data.embedding) {
    const embedding = data.embedding;
    if (components) {
      const fittedPca = fitPca(embedding, trainIdx, components, { seed: options.seed });
      pca = fittedPca;
      const trainProjection = transformPca(fittedPca, embedding, trainIdx);
      const scaler = fitStandardScaler(trainProjection, trainIdx.map((_, i) => i));
      embeddingOf = (ix) => {
        const projected = transformPca(fittedPca, embedding, ix);
        return applyScaler(scaler, projected, ix.map((_, i) => i));
      };
    } else {
      const scaler = fitStandardScaler(embedding, trainIdx);
      embeddingOf = (ix) => applyScaler(scaler, embedding, ix);
    }
  }
  const part = (ix: readonly number[]): PartData => {
    const rs = pick(ix);
    const inputs: PartData["inputs"] = {
      meta: transformFeatures(pipeline, rs).data,
      stats: applyScaler(statsScaler, data.stats, ix),
    };
    if (embeddingOf) inputs.embedding = embeddingOf(ix);
    return { indices: ix.slice(), y: engagementClasses(target, rs), inputs };
  };
  return {
    train: part(trainIdx),
    test: part(testIdx),
    dims: { meta: pipeline.columns.length, stats: data.stats.columns.length, embedding: pca ? pca.k : data.embedding?.columns.length },
    metaColumns: pipeline.columns.slice(),
    target,
    pipeline,
    pca,
    classLabels: target.bins.labels.slice(),
  };
}

/** Grouped stratified k-fold of the protocol (rows sharing an id or an image stay in one fold). */
export function cvFolds(records: readonly PoiRecord[], options: { folds: number; seed: number }): FoldIndices[] {
  return poiKFold(records, { k: options.folds, seed: options.seed });
}

/** The single grouped stratified split (train / val / test ≈ 72 / 13 / 15 %), as in the report. */
export function singleSplit(records: readonly PoiRecord[], seed: number): SplitIndices {
  return splitPoiRecords(records, { seed }).indices;
}

/** Accuracy above which a run is suspicious on this data (nothing public comes close): audit the inputs. */
export const LEAK_ACCURACY = 0.95;

/** A warning line when the accuracy is suspiciously high, else undefined. */
export function leakWarning(accuracy: number, what = "run"): string | undefined {
  if (accuracy > LEAK_ACCURACY) {
    return `WARNING: ${what} accuracy ${accuracy.toFixed(3)} > ${LEAK_ACCURACY}: audit the inputs for target leakage (Visits/Likes/Dislikes/Bookmarks, duplicated rows across folds)`;
  }
  return undefined;
}
