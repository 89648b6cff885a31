/**
 * Seeded, stratified, group-aware splits: train/val/test and k-fold.
 * Rows that share any group key (for POIs: the id or the image path) are merged with union-find and always land in the
 * same part, so a duplicated POI cannot sit in train and test at once. Same seed ⇒ same split on any machine
 * (only the project RNG and plain comparisons are used, no locale-dependent sorting).
 */
import { Rng, createRng } from "../util/random";

/** Group id (0, 1, … in order of first appearance) per item; items sharing any key share a group. */
export function groupByKeys<T>(items: readonly T[], keysOf: (item: T, index: number) => readonly string[]): number[] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const key of keysOf(item, i)) {
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else {
        const a = find(i);
        const b = find(j);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const ids = new Map<number, number>();
  return items.map((_, i) => {
    const root = find(i);
    if (!ids.has(root)) ids.set(root, ids.size);
    return ids.get(root)!;
  });
}

export interface SplitIndices {
  train: number[];
  val: number[];
  test: number[];
}

export interface FoldIndices {
  train: number[];
  val: number[];
}

/**
 * Part sizes the way two scikit-learn train_test_split calls give them: test = ⌈n·testFraction⌉, then
 * val = ⌈(n − test)·valFraction⌉. For n = 1569 and 0.15 / 0.15 (the report): 1133 / 200 / 236.
 */
export function splitSizes(n: number, testFraction = 0.15, valFraction = 0.15): { train: number; val: number; test: number } {
  for (const [name, f] of [["testFraction", testFraction], ["valFraction", valFraction]] as const) {
    if (!(f >= 0 && f < 1)) throw new Error(`splitSizes: ${name} must be in [0, 1), got ${f}`);
  }
  // Round first so that 1569 × 0.15 = 235.35000000000002 does not become 236 by floating-point noise alone.
  const ceil = (x: number) => Math.ceil(Math.round(x * 1e9) / 1e9);
  const test = ceil(n * testFraction);
  const val = ceil((n - test) * valFraction);
  return { train: n - test - val, val, test };
}

/** Largest-remainder rounding of non-negative weights to integers summing to `total`. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) {
    const out = weights.map(() => 0);
    out[0] = total;
    return out;
  }
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

interface Group {
  members: number[];
  label: string;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Groups with their majority label (ties: the smallest label). */
function buildGroups<T>(items: readonly T[], groupIds: readonly number[], labelOf: (item: T, index: number) => string): Group[] {
  const groups: Group[] = [];
  const labelCounts: Map<string, number>[] = [];
  items.forEach((item, i) => {
    const g = groupIds[i];
    if (!groups[g]) {
      groups[g] = { members: [], label: "" };
      labelCounts[g] = new Map();
    }
    groups[g].members.push(i);
    const label = labelOf(item, i);
    labelCounts[g].set(label, (labelCounts[g].get(label) ?? 0) + 1);
  });
  groups.forEach((group, g) => {
    const entries = [...labelCounts[g].entries()].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]));
    group.label = entries[0][0];
  });
  return groups;
}

/**
 * Assign groups to parts so each part gets close to `targets[p]` rows and each stratum is spread in proportion.
 * Strata are visited in label order; within one, groups are shuffled, bigger groups placed first (they are the hard part),
 * each to the part with the largest remaining quota for that stratum. Quotas of later strata absorb earlier overshoot.
 */
function allocate(groups: readonly Group[], targets: readonly number[], rng: Rng): number[][] {
  const parts: number[][] = targets.map(() => []);
  const assigned = targets.map(() => 0);
  const strata = new Map<string, Group[]>();
  for (const g of groups) {
    if (!strata.has(g.label)) strata.set(g.label, []);
    strata.get(g.label)!.push(g);
  }
  const labels = [...strata.keys()].sort(compareStrings);
  for (const label of labels) {
    const members = strata.get(label)!;
    const rows = members.reduce((a, g) => a + g.members.length, 0);
    const remaining = targets.map((t, p) => Math.max(0, t - assigned[p]));
    const quota = apportion(rows, remaining);
    const taken = targets.map(() => 0);
    const ordered = rng.shuffle(members).map((g, order) => ({ g, order }));
    ordered.sort((a, b) => b.g.members.length - a.g.members.length || a.order - b.order);
    for (const { g } of ordered) {
      let best = 0;
      for (let p = 1; p < targets.length; p++) {
        const deficit = quota[p] - taken[p];
        const bestDeficit = quota[best] - taken[best];
        if (deficit > bestDeficit || (deficit === bestDeficit && targets[p] - assigned[p] > targets[best] - assigned[best])) best = p;
      }
      parts[best].push(...g.members);
      taken[best] += g.members.length;
      assigned[best] += g.members.length;
    }
  }
  return parts.map((p) => p.sort((a, b) => a - b));
}

export interface GroupSplitOptions<T> {
  seed: number;
  /** Fraction of all rows for test (default 0.15). */
  testFraction?: number;
  /** Fraction of the non-test rows for validation (default 0.15), as in a second train_test_split. */
  valFraction?: number;
  /** Keys that tie rows together; default: none (every row its own group). */
  groupKeys?: (item: T, index: number) => readonly string[];
  /** Stratification label; default: none (one stratum). */
  stratify?: (item: T, index: number) => string | number;
}

/** Seeded stratified group split into train / val / test indices (sorted ascending). */
export function stratifiedGroupSplit<T>(items: readonly T[], options: GroupSplitOptions<T>): SplitIndices {
  const sizes = splitSizes(items.length, options.testFraction ?? 0.15, options.valFraction ?? 0.15);
  const groupIds = groupByKeys(items, options.groupKeys ?? ((_, i) => [`row:${i}`]));
  const stratify = options.stratify;
  const groups = buildGroups(items, groupIds, stratify ? (item, i) => String(stratify(item, i)) : () => "");
  const [train, val, test] = allocate(groups, [sizes.train, sizes.val, sizes.test], createRng(options.seed).fork("split"));
  return { train, val, test };
}

export interface GroupKFoldOptions<T> {
  k: number;
  seed: number;
  groupKeys?: (item: T, index: number) => readonly string[];
  stratify?: (item: T, index: number) => string | number;
}

/** Seeded stratified group k-fold: each row is in exactly one validation fold; groups never straddle folds. */
export function stratifiedGroupKFold<T>(items: readonly T[], options: GroupKFoldOptions<T>): FoldIndices[] {
  const { k } = options;
  if (!Number.isInteger(k) || k < 2) throw new Error(`stratifiedGroupKFold: k must be an integer ≥ 2, got ${k}`);
  const groupIds = groupByKeys(items, options.groupKeys ?? ((_, i) => [`row:${i}`]));
  const stratify = options.stratify;
  const groups = buildGroups(items, groupIds, stratify ? (item, i) => String(stratify(item, i)) : () => "");
  if (groups.length < k) throw new Error(`stratifiedGroupKFold: ${groups.length} groups cannot fill ${k} folds`);
  const targets = apportion(items.length, new Array<number>(k).fill(1));
  const folds = allocate(groups, targets, createRng(options.seed).fork("kfold"));
  return folds.map((val, f) => ({
    train: folds.flatMap((other, g) => (g === f ? [] : other)).sort((a, b) => a - b),
    val,
  }));
}
