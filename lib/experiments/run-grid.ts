import type { RunSummary } from "../track";

/** A run's value for "params.x", "metrics.x", "tags.x" or "run_name" (null when absent). */
export function runField(run: RunSummary, field: string): string | number | null {
  if (field === "run_name") return run.runName;
  const dot = field.indexOf(".");
  const kind = field.slice(0, dot);
  const key = field.slice(dot + 1);
  if (kind === "metrics") return run.metrics[key] ?? null;
  if (kind === "params") return run.params[key] ?? null;
  if (kind === "tags") return run.tags[key] ?? null;
  throw new Error(`runField: unknown field ${JSON.stringify(field)} (use params.<k>, metrics.<k>, tags.<k> or run_name)`);
}

export interface GridOptions {
  /** One bar group per value of this field (e.g. "params.augmentation"). */
  category: string;
  /** One series (colour) per value of this field (e.g. "params.backbone"). */
  series: string;
  /** The bar height (e.g. "metrics.final_val_f1_macro"). */
  metric: string;
}

export interface Grid {
  categories: string[];
  /** series name → one value per category (NaN where no run has that combination). */
  values: Record<string, number[]>;
}

/**
 * Runs → a category × series grid for `groupedBarChart(grid.categories, grid.values)`, in first-seen order.
 * Two runs with the same combination are an error (filter the runs of one notebook execution first).
 */
export function runsGrid(runs: readonly RunSummary[], options: GridOptions): Grid {
  const categories: string[] = [];
  const seriesNames: string[] = [];
  const cells = new Map<string, number>();
  for (const run of runs) {
    const c = String(runField(run, options.category));
    const s = String(runField(run, options.series));
    const value = runField(run, options.metric);
    if (!categories.includes(c)) categories.push(c);
    if (!seriesNames.includes(s)) seriesNames.push(s);
    const key = JSON.stringify([c, s]);
    if (cells.has(key)) throw new Error(`runsGrid: two runs for ${options.category}=${c}, ${options.series}=${s} (run ${run.runId})`);
    cells.set(key, typeof value === "number" ? value : value === null ? NaN : Number(value));
  }
  const values: Record<string, number[]> = {};
  for (const s of seriesNames) values[s] = categories.map((c) => cells.get(JSON.stringify([c, s])) ?? NaN);
  return { categories, values };
}

/** The run with the highest `metric` (ties: the earlier run in the list); throws when no run has it. */
export function bestRun(runs: readonly RunSummary[], metric: string): RunSummary {
  let best: RunSummary | null = null;
  let bestValue = -Infinity;
  for (const run of runs) {
    const value = runField(run, metric);
    if (typeof value === "number" && Number.isFinite(value) && value > bestValue) {
      best = run;
      bestValue = value;
    }
  }
  if (!best) throw new Error(`bestRun: no run has ${metric}`);
  return best;
}
