/** Descriptive statistics on plain number arrays (pandas/numpy definitions noted where they differ). */

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length ? sum / values.length : NaN;
}

/** Standard deviation; `ddof` 1 (default) = pandas' sample std, 0 = numpy's population std. */
export function std(values: ArrayLike<number>, ddof = 1): number {
  const n = values.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (values[i] - m) ** 2;
  return Math.sqrt(sum / (n - ddof));
}

/** Quantile with linear interpolation between order statistics (numpy's default, pandas' too). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`pearson: lengths differ (${x.length} vs ${y.length})`);
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Ranks starting at 1, ties get their average rank (scipy's rankdata 'average'). */
export function rank(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    const average = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]] = average;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's rank correlation (Pearson on average ranks, as scipy.stats.spearmanr). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(rank(x), rank(y));
}

/** Pairwise correlation matrix of named columns. */
export function correlationMatrix(columns: Record<string, ArrayLike<number>>, method: "pearson" | "spearman" = "pearson"): { names: string[]; matrix: number[][] } {
  const names = Object.keys(columns);
  const fn = method === "pearson" ? pearson : spearman;
  const matrix = names.map((a) => names.map((b) => (a === b ? 1 : fn(columns[a], columns[b]))));
  return { names, matrix };
}

export interface Description {
  count: number;
  mean: number;
  std: number;
  min: number;
  q25: number;
  median: number;
  q75: number;
  max: number;
}

/** pandas' `describe()` for one numeric column. */
export function describe(values: ArrayLike<number>): Description {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return {
    count: values.length,
    mean: mean(values),
    std: std(values),
    min,
    q25: quantile(values, 0.25),
    median: quantile(values, 0.5),
    q75: quantile(values, 0.75),
    max,
  };
}

/** Counts of each value (list columns are exploded: one count per item), most frequent first. */
export function valueCounts(values: readonly (string | number | readonly string[])[]): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const v of values) {
    for (const item of Array.isArray(v) ? v : [v]) counts.set(String(item), (counts.get(String(item)) ?? 0) + 1);
  }
  return [...counts.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}
