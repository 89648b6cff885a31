/**
 * The POI table's preprocessors (tags count, categories multi-hot, tier one-hot, xps, location clusters, coordinates,
 * numeric fields), built on lib/features' generic parts: `fit(trainRows)` returns a plain, JSON-serialisable fitted
 * object; `transform(fitted, rows)` is pure and never refits. Target columns are refused (TargetLeakError).
 */
import {
  FeatureInputError,
  applyScale,
  blockFromRows,
  finiteField,
  fitKMeans,
  fitScale,
  listField,
  nearestCentroid,
  rowOf,
  type FeatureMatrix,
  type ScaleStats,
  type UnknownPolicy,
} from "../features";
import { TARGET_COLUMNS, type PoiRecord } from "./record";

/** The slice of a record the preprocessors read (a PoiRecord has all of it). */
export type FeatureSource = Pick<PoiRecord, "row" | "categories" | "tier" | "locationLat" | "locationLon" | "tags" | "xps">;

// ---------------------------------------------------------------- fitted objects (plain JSON)

export interface FittedTags {
  kind: "tags";
  scale: ScaleStats;
}
export interface FittedCategories {
  kind: "categories";
  vocabulary: string[];
  unknown: UnknownPolicy;
}
export interface FittedTier {
  kind: "tier";
  values: number[];
  unknown: UnknownPolicy;
}
export interface FittedXps {
  kind: "xps";
  scale: ScaleStats;
}
export interface FittedLocation {
  kind: "location";
  k: number;
  seed: number;
  /** [lat, lon] per cluster, sorted south → north. */
  centroids: number[][];
  inertia: number;
}
export interface FittedCoordinates {
  kind: "coordinates";
  lat: ScaleStats;
  lon: ScaleStats;
}
/** A plain numeric record field (never a target column), optionally log1p'd, standard-scaled. */
export interface FittedNumeric {
  kind: "numeric";
  field: string;
  log1p: boolean;
  scale: ScaleStats;
}
export type FittedPreprocessor =
  | FittedTags
  | FittedCategories
  | FittedTier
  | FittedXps
  | FittedLocation
  | FittedCoordinates
  | FittedNumeric;
export type PreprocessorKind = FittedPreprocessor["kind"];

/** A preprocessor: its options are closed over; fit returns plain data; transform is pure. */
export interface Preprocessor<F extends FittedPreprocessor = FittedPreprocessor> {
  readonly kind: F["kind"];
  fit(trainRows: readonly FeatureSource[]): F;
  transform(fitted: F, rows: readonly FeatureSource[]): FeatureMatrix;
}

// ---------------------------------------------------------------- tags

/** Number of tags of a record; an empty list counts 0. */
export function totalTags(r: FeatureSource, index = 0): number {
  return listField(r as unknown as Record<string, unknown>, "tags", index).length;
}

/** `total_tags`: the tag count, standard-scaled with train mean/std. */
export function tagsCount(): Preprocessor<FittedTags> {
  return {
    kind: "tags",
    fit: (train) => ({ kind: "tags", scale: fitScale(train.map((r, i) => totalTags(r, i))) }),
    transform: (fitted, rows) => transformTags(fitted, rows),
  };
}
function transformTags(f: FittedTags, rows: readonly FeatureSource[]): FeatureMatrix {
  return blockFromRows("tags", ["total_tags"], rows.map((r, i) => [applyScale(f.scale, totalTags(r, i))]));
}

// ---------------------------------------------------------------- categories (multi-hot)

/** Multi-hot `cat_<name>` columns over the categories seen in training (sorted by name). */
export function categoriesMultiHot(options: { unknown?: UnknownPolicy } = {}): Preprocessor<FittedCategories> {
  return {
    kind: "categories",
    fit: (train) => {
      const seen = new Set<string>();
      train.forEach((r, i) => listField(r as unknown as Record<string, unknown>, "categories", i).forEach((c) => seen.add(c)));
      if (seen.size === 0) throw new Error("categoriesMultiHot.fit: no categories in the training rows");
      return { kind: "categories", vocabulary: [...seen].sort(), unknown: options.unknown ?? "error" };
    },
    transform: (fitted, rows) => transformCategories(fitted, rows),
  };
}
function transformCategories(f: FittedCategories, rows: readonly FeatureSource[]): FeatureMatrix {
  const index = new Map(f.vocabulary.map((c, i) => [c, i]));
  const values = rows.map((r, i) => {
    const out = new Array<number>(f.vocabulary.length).fill(0);
    for (const c of listField(r as unknown as Record<string, unknown>, "categories", i)) {
      const j = index.get(c);
      if (j !== undefined) out[j] = 1;
      else if (f.unknown === "error") {
        throw new FeatureInputError(rowOf(r, i), "categories", c, `is not in the training vocabulary (${f.vocabulary.join(", ")}); use unknown: "zeros" to ignore it`);
      }
    }
    return out;
  });
  return blockFromRows("categories", f.vocabulary.map((c) => `cat_${c}`), values);
}

// ---------------------------------------------------------------- tier (one-hot)

/** One-hot `tier_<v>` columns over the tiers seen in training. */
export function tierOneHot(options: { unknown?: UnknownPolicy } = {}): Preprocessor<FittedTier> {
  return {
    kind: "tier",
    fit: (train) => {
      const values = [...new Set(train.map((r, i) => finiteField(r as unknown as Record<string, unknown>, "tier", i)))].sort((a, b) => a - b);
      return { kind: "tier", values, unknown: options.unknown ?? "error" };
    },
    transform: (fitted, rows) => transformTier(fitted, rows),
  };
}
function transformTier(f: FittedTier, rows: readonly FeatureSource[]): FeatureMatrix {
  const values = rows.map((r, i) => {
    const t = finiteField(r as unknown as Record<string, unknown>, "tier", i);
    const j = f.values.indexOf(t);
    if (j < 0 && f.unknown === "error") {
      throw new FeatureInputError(rowOf(r, i), "tier", t, `was not seen in training (${f.values.join(", ")}); use unknown: "zeros" for an all-zero row`);
    }
    return f.values.map((_, k) => (k === j ? 1 : 0));
  });
  return blockFromRows("tier", f.values.map((v) => `tier_${v}`), values);
}

// ---------------------------------------------------------------- xps

/** `xps_log1p`: log(1 + xps), then standard-scaled; xps must be ≥ 0. */
export function xpsLogScaled(): Preprocessor<FittedXps> {
  return {
    kind: "xps",
    fit: (train) => ({ kind: "xps", scale: fitScale(train.map((r, i) => logXps(r, i))) }),
    transform: (fitted, rows) => blockFromRows("xps", ["xps_log1p"], rows.map((r, i) => [applyScale(fitted.scale, logXps(r, i))])),
  };
}
function logXps(r: FeatureSource, i: number): number {
  const v = finiteField(r as unknown as Record<string, unknown>, "xps", i);
  if (v < 0) throw new FeatureInputError(rowOf(r, i), "xps", v, "is negative: log1p needs xps ≥ 0");
  return Math.log1p(v);
}

// ---------------------------------------------------------------- location clusters

function latLon(r: FeatureSource, i: number): number[] {
  const rec = r as unknown as Record<string, unknown>;
  return [finiteField(rec, "locationLat", i), finiteField(rec, "locationLon", i)];
}

/** KMeans (k clusters, seeded) on (lat, lon) of the training rows; one-hot `loc_cluster_<i>` of the nearest centroid. */
export function locationClusters(options: { k?: number; seed?: number; nInit?: number } = {}): Preprocessor<FittedLocation> {
  const k = options.k ?? 3;
  const seed = options.seed ?? 42;
  return {
    kind: "location",
    fit: (train) => {
      const fit = fitKMeans(train.map((r, i) => latLon(r, i)), k, { seed, nInit: options.nInit });
      return { kind: "location", k, seed, centroids: fit.centroids, inertia: fit.inertia };
    },
    transform: (fitted, rows) => transformLocation(fitted, rows),
  };
}
function transformLocation(f: FittedLocation, rows: readonly FeatureSource[]): FeatureMatrix {
  const columns = f.centroids.map((_, c) => `loc_cluster_${c}`);
  const values = rows.map((r, i) => {
    const c = nearestCentroid(latLon(r, i), f.centroids);
    return columns.map((_, j) => (j === c ? 1 : 0));
  });
  return blockFromRows("location", columns, values);
}

// ---------------------------------------------------------------- raw coordinates

/** Optional `lat`, `lon` columns, standard-scaled with train mean/std. */
export function coordinatesScaled(): Preprocessor<FittedCoordinates> {
  return {
    kind: "coordinates",
    fit: (train) => {
      const points = train.map((r, i) => latLon(r, i));
      return { kind: "coordinates", lat: fitScale(points.map((p) => p[0])), lon: fitScale(points.map((p) => p[1])) };
    },
    transform: (fitted, rows) =>
      blockFromRows(
        "coordinates",
        ["lat", "lon"],
        rows.map((r, i) => {
          const [lat, lon] = latLon(r, i);
          return [applyScale(fitted.lat, lat), applyScale(fitted.lon, lon)];
        }),
      ),
  };
}

// ---------------------------------------------------------------- any numeric field

/** Column `<field>` (or `<field>_log1p`): a numeric record field, standard-scaled. Target columns are refused. */
export function numericScaled(field: string, options: { log1p?: boolean } = {}): Preprocessor<FittedNumeric> {
  assertNotTarget(field);
  const log1p = options.log1p ?? false;
  return {
    kind: "numeric",
    fit: (train) => ({ kind: "numeric", field, log1p, scale: fitScale(train.map((r, i) => numericValue(r, field, log1p, i))) }),
    transform: (fitted, rows) => transformNumeric(fitted, rows),
  };
}
function numericValue(r: FeatureSource, field: string, log1p: boolean, i: number): number {
  const v = finiteField(r as unknown as Record<string, unknown>, field, i);
  if (log1p && v <= -1) throw new FeatureInputError(rowOf(r, i), field, v, "is ≤ -1: log1p undefined");
  return log1p ? Math.log1p(v) : v;
}
function transformNumeric(f: FittedNumeric, rows: readonly FeatureSource[]): FeatureMatrix {
  assertNotTarget(f.field);
  const name = f.log1p ? `${f.field}_log1p` : f.field;
  return blockFromRows(f.field, [name], rows.map((r, i) => [applyScale(f.scale, numericValue(r, f.field, f.log1p, i))]));
}

// ---------------------------------------------------------------- the target guard

/** Raised when a target-defining column (Visits, Likes, Dislikes, Bookmarks) is asked for as a feature. */
export class TargetLeakError extends Error {
  constructor(readonly column: string) {
    super(`"${column}" defines the engagement target (${TARGET_COLUMNS.join(", ")}) and can never be a model input`);
    this.name = "TargetLeakError";
  }
}

/** Throws TargetLeakError when a name is, or is derived from, a target column (case-insensitive, e.g. "likes_log1p"). */
export function assertNotTarget(name: string): void {
  const lower = name.toLowerCase();
  for (const t of TARGET_COLUMNS) {
    const target = t.toLowerCase();
    if (lower === target || lower.startsWith(`${target}_`)) throw new TargetLeakError(name);
  }
}

// ---------------------------------------------------------------- dispatch on fitted objects

/** Transform with any fitted object, e.g. one read back from JSON (no need for the original preprocessor). */
export function transformFitted(fitted: FittedPreprocessor, rows: readonly FeatureSource[]): FeatureMatrix {
  switch (fitted.kind) {
    case "tags":
      return transformTags(fitted, rows);
    case "categories":
      return transformCategories(fitted, rows);
    case "tier":
      return transformTier(fitted, rows);
    case "xps":
      return xpsLogScaled().transform(fitted, rows);
    case "location":
      return transformLocation(fitted, rows);
    case "coordinates":
      return coordinatesScaled().transform(fitted, rows);
    case "numeric":
      return transformNumeric(fitted, rows);
    default:
      throw new Error(`transformFitted: unknown fitted kind ${JSON.stringify((fitted as { kind?: unknown }).kind)}`);
  }
}

