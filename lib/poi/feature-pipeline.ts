/**
 * The feature pipeline: composes the preprocessors, names every output column, fits on training rows only,
 * and round-trips through JSON. Target columns (Visits, Likes, Dislikes, Bookmarks) are refused at every step.
 */
import {
  FeatureSource,
  FittedPreprocessor,
  Preprocessor,
  assertNotTarget,
  categoriesMultiHot,
  coordinatesScaled,
  locationClusters,
  numericScaled,
  tagsCount,
  tierOneHot,
  transformFitted,
  xpsLogScaled,
} from "./encoders";
import { hstack, type FeatureMatrix, type UnknownPolicy } from "../features";

/** The built-in feature blocks, in output order. */
export const FEATURE_BLOCKS = ["tags", "categories", "tier", "xps", "location", "coordinates"] as const;
export type FeatureBlock = (typeof FEATURE_BLOCKS)[number];

export interface FeaturePipelineSpec {
  /** Which blocks to build, in this order. Default: tags, categories, tier, xps, location (no raw coordinates). */
  features?: readonly string[];
  /** Extra numeric record fields to standard-scale (target columns are refused). */
  numeric?: readonly string[];
  /** Location clusters: k (report compared 3, 4, 5), seed, KMeans starts. */
  location?: { k?: number; seed?: number; nInit?: number };
  /**
   * A category or tier value never seen in training: "error" (default) throws FeatureInputError naming the row,
   * "zeros" leaves that value's columns at 0 (an unknown tier gives an all-zero tier block).
   */
  unknown?: UnknownPolicy;
}

export const DEFAULT_FEATURES: readonly FeatureBlock[] = ["tags", "categories", "tier", "xps", "location"];
/** k kept for the location clusters: best silhouette among k = 3, 4, 5 on the train split (notebook 02 shows elbow + silhouette). */
export const DEFAULT_LOCATION_K = 3;

export interface FittedFeaturePipeline {
  format: "poi-feature-pipeline";
  version: 1;
  spec: FeaturePipelineSpec;
  steps: FittedPreprocessor[];
  /** Output column names, in order. */
  columns: string[];
  /** Column names per feature group. */
  groups: Record<string, string[]>;
  /** Number of training rows it was fitted on. */
  fittedOn: number;
}

function buildPreprocessors(spec: FeaturePipelineSpec): Preprocessor[] {
  const names = spec.features ?? DEFAULT_FEATURES;
  const out: Preprocessor[] = [];
  for (const name of names) {
    assertNotTarget(name);
    switch (name) {
      case "tags":
        out.push(tagsCount() as Preprocessor);
        break;
      case "categories":
        out.push(categoriesMultiHot({ unknown: spec.unknown }) as Preprocessor);
        break;
      case "tier":
        out.push(tierOneHot({ unknown: spec.unknown }) as Preprocessor);
        break;
      case "xps":
        out.push(xpsLogScaled() as Preprocessor);
        break;
      case "location":
        out.push(
          locationClusters({ k: spec.location?.k ?? DEFAULT_LOCATION_K, seed: spec.location?.seed, nInit: spec.location?.nInit }) as Preprocessor,
        );
        break;
      case "coordinates":
        out.push(coordinatesScaled() as Preprocessor);
        break;
      default:
        throw new Error(`feature pipeline: unknown feature block "${name}"; known: ${FEATURE_BLOCKS.join(", ")} (or list it under numeric)`);
    }
  }
  for (const field of spec.numeric ?? []) out.push(numericScaled(field) as Preprocessor);
  if (out.length === 0) throw new Error("feature pipeline: no features selected");
  return out;
}

/** Refuse any output column named after a target (a second line of defence, also for hand-edited JSON). */
function assertNoTargetColumns(columns: readonly string[]): void {
  for (const c of columns) assertNotTarget(c);
}

/** Fit every preprocessor on the training rows only. */
export function fitFeaturePipeline(trainRows: readonly FeatureSource[], spec: FeaturePipelineSpec = {}): FittedFeaturePipeline {
  if (trainRows.length === 0) throw new Error("fitFeaturePipeline: no training rows");
  const preprocessors = buildPreprocessors(spec);
  const steps = preprocessors.map((p) => p.fit(trainRows));
  // Column names come from transforming one training row: the same code path as every later transform.
  const probe = hstack(steps.map((s) => transformFitted(s, trainRows.slice(0, 1))));
  assertNoTargetColumns(probe.columns);
  return {
    format: "poi-feature-pipeline",
    version: 1,
    spec: JSON.parse(JSON.stringify(spec)) as FeaturePipelineSpec,
    steps,
    columns: probe.columns,
    groups: probe.groups,
    fittedOn: trainRows.length,
  };
}

/** Pure transform of any rows (train, val, test, new) with a fitted pipeline. */
export function transformFeatures(fitted: FittedFeaturePipeline, rows: readonly FeatureSource[]): FeatureMatrix {
  const m = hstack(fitted.steps.map((s) => transformFitted(s, rows)));
  assertNoTargetColumns(m.columns);
  if (m.columns.join("\u0000") !== fitted.columns.join("\u0000")) {
    throw new Error(`transformFeatures: columns ${m.columns.join(", ")} differ from the fitted ${fitted.columns.join(", ")}`);
  }
  return m;
}

/** scikit-learn-like handle: `const p = featurePipeline(spec); const f = p.fit(train); p.transform(f, val)`. */
export function featurePipeline(spec: FeaturePipelineSpec = {}) {
  buildPreprocessors(spec); // validate the spec (and the target guard) up front
  return {
    spec,
    fit: (trainRows: readonly FeatureSource[]) => fitFeaturePipeline(trainRows, spec),
    transform: (fitted: FittedFeaturePipeline, rows: readonly FeatureSource[]) => transformFeatures(fitted, rows),
  };
}

export function featurePipelineToJson(fitted: FittedFeaturePipeline): string {
  return JSON.stringify(fitted);
}

/** Parse and check a fitted pipeline written by featurePipelineToJson. */
export function featurePipelineFromJson(json: string): FittedFeaturePipeline {
  const parsed = JSON.parse(json) as Partial<FittedFeaturePipeline>;
  if (parsed.format !== "poi-feature-pipeline" || parsed.version !== 1) {
    throw new Error(`featurePipelineFromJson: not a version-1 poi-feature-pipeline (format=${parsed.format}, version=${parsed.version})`);
  }
  if (!Array.isArray(parsed.steps) || !Array.isArray(parsed.columns)) throw new Error("featurePipelineFromJson: missing steps or columns");
  assertNoTargetColumns(parsed.columns);
  for (const s of parsed.steps) if (s.kind === "numeric") assertNotTarget(s.field);
  return parsed as FittedFeaturePipeline;
}
