/**
 * The Dataset description every layer above reads: where each item's image is, its metadata values, its class, its
 * group (rows that must stay together in splits) and, when the source says so, whether it is a train / val / test
 * item. Specs build one: imageFolder (lib/data/image-folder.ts), imageTable (image-table.ts), fashionMnist (idx.ts),
 * and the POI table (lib/poi's poiDataset). Items are plain data; a dataset is JSON-serialisable except `fitLabels`.
 */
import { DataError } from "./errors";

/** How a metadata column is encoded downstream: numeric → standard scaler, categorical → one-hot over a train vocabulary. */
export type MetadataKind = "numeric" | "categorical";

export interface MetadataColumn {
  name: string;
  kind: MetadataKind;
}

/** A number for a numeric column, a string for a categorical one. */
export type MetadataValue = number | string;

/** The part a source assigns an item to (an image folder's train/ val/ test/, a table's split column). */
export type SourceSplit = "train" | "val" | "test";

export interface DatasetItem {
  /** 1-based: the CSV data row (header excluded), or the item's position in the listing. */
  row: number;
  /** Unique within the dataset (the file path relative to the root, a table's row, an IDX index). */
  id: string;
  /** Absolute path of the image file, or of the IDX file that holds it (then `imageIndex` is set). */
  image?: string;
  /** The image's index inside a multi-image file (IDX). */
  imageIndex?: number;
  /** Index into Dataset.classes. */
  label: number;
  /** Items sharing a group always land in the same split part / fold. */
  group?: string;
  /** One value per Dataset.metadata column (numbers for numeric columns, strings for categorical ones). */
  metadata: Record<string, MetadataValue>;
  split?: SourceSplit;
}

/** An input left out under `onInvalid: "skip"` (or not an image), with where and why. */
export interface SkippedEntry {
  file: string;
  row?: number;
  field?: string;
  reason: string;
}

export interface Dataset {
  /** A short name for tables and report titles (the folder or file name). */
  name: string;
  /** The folder or file the dataset was read from. */
  source: string;
  /** Class names; an item's label is an index into this list. */
  classes: string[];
  items: DatasetItem[];
  /** The metadata columns (none for an image-only dataset), in input order. */
  metadata: MetadataColumn[];
  /** Inputs left out and why (bad inputs under `onInvalid: "skip"`, files that are not images). */
  skipped: SkippedEntry[];
  /** Rows dropped because their class is not in a requested `classes` subset (not an error, but counted). */
  droppedByClassFilter: number;
  /** Set when every image has this shape (Fashion-MNIST: 28×28, 1 channel). */
  imageShape?: { width: number; height: number; channels: 1 | 3 };
  /**
   * Labels that must be fitted on the training rows (the POI engagement tertiles): the label of every item, from a
   * target fitted on `trainIndices` only. Absent when labels are fixed by the source. `label` then only balances splits.
   */
  fitLabels?: (trainIndices: readonly number[]) => number[];
}

/** What a spec does with a bad input: "error" (default) throws a DataError naming file / row / field; "skip" leaves it out and lists it in `skipped`. */
export type InvalidPolicy = "error" | "skip";

/** Collects bad inputs: throws under "error", records under "skip". */
export class InvalidInputs {
  readonly skipped: SkippedEntry[] = [];
  constructor(readonly policy: InvalidPolicy = "error") {
    if (policy !== "error" && policy !== "skip") throw new Error(`onInvalid must be "error" or "skip", got ${JSON.stringify(policy)}`);
  }
  /** Report one bad input; returns only under "skip". */
  report(error: DataError): void {
    if (this.policy === "error") throw error;
    this.skipped.push({ file: error.file, row: error.row, field: error.field, reason: error.reason });
  }
}

/** Items per class, in class order. */
export function countClasses(dataset: Pick<Dataset, "classes" | "items">, indices?: readonly number[]): { className: string; count: number }[] {
  const counts = new Array<number>(dataset.classes.length).fill(0);
  for (const i of indices ?? dataset.items.keys()) counts[dataset.items[i].label]++;
  return dataset.classes.map((className, c) => ({ className, count: counts[c] }));
}

/** The labels to train and evaluate with when `trainIndices` are the training rows (fitted labels, else the source's). */
export function labelsFor(dataset: Dataset, trainIndices: readonly number[]): number[] {
  return dataset.fitLabels ? dataset.fitLabels(trainIndices) : dataset.items.map((item) => item.label);
}

/** Indices of the items the source assigns to a part. */
export function sourceSplitIndices(dataset: Pick<Dataset, "items">, part: SourceSplit): number[] {
  const out: number[] = [];
  dataset.items.forEach((item, i) => item.split === part && out.push(i));
  return out;
}

/** True when every item has a source split with at least one train and one held-out (val or test) item. */
export function hasSourceSplit(dataset: Pick<Dataset, "items">): boolean {
  const parts = new Set(dataset.items.map((item) => item.split));
  return !parts.has(undefined) && parts.has("train") && (parts.has("test") || parts.has("val"));
}

/** A one-line description: name, items, classes, metadata columns, groups, source split, skips. */
export function describeDataset(dataset: Dataset): string {
  const groups = new Set(dataset.items.map((item) => item.group).filter((g) => g !== undefined)).size;
  const parts = (["train", "val", "test"] as const)
    .map((p) => [p, sourceSplitIndices(dataset, p).length] as const)
    .filter(([, n]) => n > 0)
    .map(([p, n]) => `${p} ${n}`);
  return [
    `${dataset.name}: ${dataset.items.length} items, ${dataset.classes.length} classes`,
    dataset.metadata.length > 0 ? `metadata ${dataset.metadata.map((c) => `${c.name} (${c.kind})`).join(", ")}` : "image only",
    groups > 0 ? `${groups} groups` : undefined,
    parts.length > 0 ? `source split: ${parts.join(" / ")}` : undefined,
    dataset.fitLabels ? "labels fitted on the training rows" : undefined,
    `${dataset.skipped.length} skipped`,
    dataset.droppedByClassFilter > 0 ? `${dataset.droppedByClassFilter} dropped by the class subset` : undefined,
  ]
    .filter(Boolean)
    .join("; ");
}

/**
 * Keep a subset of classes, in the given order (labels renumbered). A requested class the dataset does not have is
 * an error naming it; rows of other classes are dropped and counted in `droppedByClassFilter`.
 */
export function selectClasses(dataset: Dataset, classes: readonly string[]): Dataset {
  if (dataset.fitLabels) throw new Error(`${dataset.name}: a class subset needs fixed labels; this dataset fits its labels on the training rows`);
  const unknown = classes.filter((c) => !dataset.classes.includes(c));
  if (unknown.length > 0) {
    throw new DataError(dataset.source, `unknown class(es) ${unknown.map((c) => JSON.stringify(c)).join(", ")}; the dataset has ${dataset.classes.map((c) => JSON.stringify(c)).join(", ")}`);
  }
  if (new Set(classes).size !== classes.length) throw new Error(`selectClasses: a class is listed twice in ${JSON.stringify(classes)}`);
  const newLabel = new Map(classes.map((c, i) => [dataset.classes.indexOf(c), i]));
  const items = dataset.items.filter((item) => newLabel.has(item.label)).map((item) => ({ ...item, label: newLabel.get(item.label)! }));
  return { ...dataset, classes: classes.slice(), items, droppedByClassFilter: dataset.droppedByClassFilter + dataset.items.length - items.length };
}

/** Plain comparison (no locale): the same order on every machine, like Python's sorted(). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
