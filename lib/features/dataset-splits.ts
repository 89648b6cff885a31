/**
 * Splits of any Dataset (lib/data): stratified by class and grouped by the items' group ids, or the split the
 * source fixes (an image folder's train/ test/, a table's split column, Fashion-MNIST's official test set).
 *
 *   const parts = splitDataset(ds, { seed: 0, testFraction: 0.2, valFraction: 0.1 });   // { train, val, test, fromSource }
 *   const folds = datasetKFold(ds, { k: 5, seed: 0 });                                 // [{ train, val }]
 */
import { hasSourceSplit, sourceSplitIndices, type Dataset, type DatasetItem } from "../data";
import { stratifiedGroupKFold, stratifiedGroupSplit, type FoldIndices } from "./splits";

export interface DatasetParts {
  train: number[];
  /** Empty when no validation part was asked for and the source has none. */
  val: number[];
  test: number[];
  /** True when train/test came from the source's own split. */
  fromSource: boolean;
}

export interface DatasetSplitOptions {
  seed: number;
  /** Fraction of all items held out for test when the source has no split (default 0.2: the 80/20 split). */
  testFraction?: number;
  /** Fraction of the training items kept for validation (early stopping, model choice), default 0. */
  valFraction?: number;
  /** Ignore the source's split and draw a stratified one (default false). */
  ignoreSourceSplit?: boolean;
}

function groupKeys(item: DatasetItem, index: number): string[] {
  return item.group !== undefined ? [`group:${item.group}`] : [`row:${index}`];
}

/**
 * Train / val / test indices (ascending). With a source split: its train and test (its val when it has one, else
 * `valFraction` of train, stratified and grouped). Without: a seeded stratified split keeping groups together.
 */
export function splitDataset(dataset: Pick<Dataset, "items">, options: DatasetSplitOptions): DatasetParts {
  const valFraction = options.valFraction ?? 0;
  if (!options.ignoreSourceSplit && hasSourceSplit(dataset)) {
    const test = sourceSplitIndices(dataset, "test");
    let val = sourceSplitIndices(dataset, "val");
    let train = sourceSplitIndices(dataset, "train");
    // A source with train + val only: val is the held-out part.
    if (test.length === 0) return { ...carveVal(dataset, train, valFraction, options.seed), test: val, fromSource: true };
    if (val.length === 0 && valFraction > 0) ({ train, val } = carveVal(dataset, train, valFraction, options.seed));
    return { train, val, test, fromSource: true };
  }
  const parts = stratifiedGroupSplit(dataset.items, {
    seed: options.seed,
    testFraction: options.testFraction ?? 0.2,
    valFraction,
    groupKeys,
    stratify: (item) => item.label,
  });
  return { ...parts, fromSource: false };
}

function carveVal(dataset: Pick<Dataset, "items">, train: number[], valFraction: number, seed: number): { train: number[]; val: number[] } {
  if (valFraction <= 0) return { train, val: [] };
  const sub = train.map((i) => dataset.items[i]);
  const parts = stratifiedGroupSplit(sub, { seed, testFraction: 0, valFraction, groupKeys: (item, i) => groupKeys(item, train[i]), stratify: (item) => item.label });
  return { train: parts.train.map((i) => train[i]), val: parts.val.map((i) => train[i]) };
}

/** Seeded stratified (by class) and grouped k-fold over all items (or over `within`, e.g. the training part). */
export function datasetKFold(dataset: Pick<Dataset, "items">, options: { k: number; seed: number; within?: readonly number[] }): FoldIndices[] {
  const pool = options.within ?? dataset.items.map((_, i) => i);
  const sub = pool.map((i) => dataset.items[i]);
  const folds = stratifiedGroupKFold(sub, { k: options.k, seed: options.seed, groupKeys: (item, i) => groupKeys(item, pool[i]), stratify: (item) => item.label });
  return folds.map((f) => ({ train: f.train.map((i) => pool[i]), val: f.val.map((i) => pool[i]) }));
}
