/**
 * The POI table as one more Dataset (lib/data), with one of two targets:
 *   - "engagement": low / medium / high M2 tertiles. The thresholds are fitted on the training rows only, so the
 *     labels come from `fitLabels(trainIndices)`; `label` holds the tertile bins over all rows, used only to
 *     stratify splits (as splitPoiRecords does).
 *   - "main-category": the first element of `categories` (11 classes, 510 rows down to 11); rows with no category are
 *     skipped and counted. `categories` is then never an input (it contains the target).
 * Metadata: tier (categorical), xps, tag count, latitude, longitude (numeric). Visits / Likes / Dislikes / Bookmarks
 * never are. Groups: rows sharing an id or an image path.
 */
import { compareStrings, type Dataset, type DatasetItem, type MetadataColumn } from "../data";
import { groupByKeys } from "../features";
import { fitEngagementTarget, engagementClasses, DEFAULT_CLASS_LABELS } from "./engagement-classes";
import { imagePath, loadPoiDataset } from "./load";
import type { PoiRecord } from "./record";
import { poiGroupKeys, stratificationLabels } from "./splits";

export type PoiTarget = "engagement" | "main-category";
export const POI_TARGETS: readonly PoiTarget[] = ["engagement", "main-category"];

export const POI_METADATA: readonly MetadataColumn[] = Object.freeze([
  { name: "tier", kind: "categorical" },
  { name: "xps", kind: "numeric" },
  { name: "tag_count", kind: "numeric" },
  { name: "latitude", kind: "numeric" },
  { name: "longitude", kind: "numeric" },
] as const);

export interface PoiDatasetOptions {
  target: PoiTarget;
  /** Default: resolveDataDir(). */
  dataDir?: string;
}

function metadataOf(r: PoiRecord): DatasetItem["metadata"] {
  return { tier: String(r.tier), xps: r.xps, tag_count: r.tags.length, latitude: r.locationLat, longitude: r.locationLon };
}

/** The POI table as a Dataset with the chosen target (see the file comment). */
export function poiDataset(options: PoiDatasetOptions): Dataset {
  if (!POI_TARGETS.includes(options.target)) throw new Error(`POI target must be one of ${POI_TARGETS.join(", ")}, got ${JSON.stringify(options.target)}`);
  const { dataDir, csvFile, records: all } = loadPoiDataset({ dataDir: options.dataDir });
  const skipped: Dataset["skipped"] = [];
  const records = options.target === "main-category" ? all.filter((r) => r.categories.length > 0) : all;
  if (options.target === "main-category") {
    for (const r of all) if (r.categories.length === 0) skipped.push({ file: csvFile, row: r.row, field: "categories", reason: "no category: no main-category label" });
  }
  const groups = groupByKeys(records, poiGroupKeys);
  const base = (r: PoiRecord, i: number, label: number): DatasetItem => ({
    row: r.row,
    id: r.id,
    image: imagePath(dataDir, r),
    label,
    group: `g${groups[i]}`,
    metadata: metadataOf(r),
  });
  const name = `poi-${options.target}`;
  if (options.target === "main-category") {
    const classes = [...new Set(records.map((r) => r.categories[0]))].sort(compareStrings);
    const items = records.map((r, i) => base(r, i, classes.indexOf(r.categories[0])));
    return { name, source: csvFile, classes, items, metadata: POI_METADATA.slice(), skipped, droppedByClassFilter: 0 };
  }
  const strata = stratificationLabels(records);
  return {
    name,
    source: csvFile,
    classes: DEFAULT_CLASS_LABELS.slice(),
    items: records.map((r, i) => base(r, i, strata[i])),
    metadata: POI_METADATA.slice(),
    skipped,
    droppedByClassFilter: 0,
    fitLabels: (trainIndices) => engagementClasses(fitEngagementTarget(trainIndices.map((i) => records[i]), { metric: "M2", classes: 3 }), records),
  };
}
