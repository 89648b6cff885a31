/**
 * Model comparison across tracked runs (lib/track's MLflow-format store): one row per run with the metrics that
 * matter, cross-validation mean ± std when the run logged them, else the held-out score; a table and a grouped
 * bar chart with error bars.
 *
 * Metric lookup for a base name such as "f1_macro": `cv_f1_macro_mean` (± `cv_f1_macro_std`), then
 * `test_f1_macro`, `final_val_f1_macro`, `val_f1_macro` (lib/train's `logEvaluation` names). "accuracy" also
 * finds the `*_acc` spelling. Pass `sources` to use your own order.
 */
import type { RunSummary, SearchRunsOptions } from "../track";
import { searchRuns } from "../track";
import type { FigureOptions, PlotlyFigure } from "../viz";
import { groupedBarChart } from "../viz";

export interface MetricValue {
  value: number;
  /** Standard deviation over CV folds, when logged. */
  std: number | null;
  /** The metric key the value came from, e.g. "cv_f1_macro_mean" or "test_f1_macro". */
  key: string;
}

const DEFAULT_PREFIXES = ["cv_", "test_", "final_val_", "val_"];

function aliases(metric: string): string[] {
  if (metric === "accuracy" || metric === "acc") return ["accuracy", "acc"];
  return [metric];
}

/** Candidate keys in lookup order: [meanKey, stdKey | null]. */
export function metricSources(metric: string, prefixes: readonly string[] = DEFAULT_PREFIXES): [string, string | null][] {
  const out: [string, string | null][] = [];
  for (const prefix of prefixes) {
    for (const name of aliases(metric)) {
      if (prefix === "cv_") out.push([`cv_${name}_mean`, `cv_${name}_std`], [`cv_${name}`, null]);
      else out.push([`${prefix}${name}`, null]);
    }
  }
  out.push([metric, null]);
  return out;
}

/** The first available value of a metric for a run, or null. */
export function resolveMetric(run: RunSummary, metric: string, sources?: readonly [string, string | null][]): MetricValue | null {
  for (const [key, stdKey] of sources ?? metricSources(metric)) {
    const value = run.metrics[key];
    if (value === undefined || !Number.isFinite(value)) continue;
    const std = stdKey !== null && Number.isFinite(run.metrics[stdKey]) ? run.metrics[stdKey] : null;
    return { value, std, key };
  }
  return null;
}

export interface ModelComparisonOptions {
  /** Base metric names (default ["f1_macro", "accuracy"]). */
  metrics?: readonly string[];
  /** Row label; default the run name (or the run id when unnamed). */
  label?: (run: RunSummary) => string;
  /** Params to show as columns (e.g. ["backbone", "augmentation"]). */
  params?: readonly string[];
  /** Lookup order per metric; default `metricSources(metric)`. */
  sources?: Record<string, readonly [string, string | null][]>;
}

export type ComparisonRow = Record<string, string | number | null>;

export interface ModelComparison {
  metrics: string[];
  runs: { label: string; run: RunSummary; values: Record<string, MetricValue | null> }[];
  /** Table rows: model, experiment, params…, then per metric `<m>`, `<m>_std`, `<m>_source`. */
  rows: ComparisonRow[];
}

/** Compare runs (e.g. the best of each notebook's experiment) on the same metrics. */
export function compareRuns(runs: readonly RunSummary[], options: ModelComparisonOptions = {}): ModelComparison {
  const metrics = [...(options.metrics ?? ["f1_macro", "accuracy"])];
  const label = options.label ?? ((run: RunSummary) => run.runName || run.runId);
  const entries = runs.map((run) => ({
    label: label(run),
    run,
    values: Object.fromEntries(metrics.map((m) => [m, resolveMetric(run, m, options.sources?.[m])])) as Record<string, MetricValue | null>,
  }));
  const rows = entries.map(({ label: name, run, values }) => {
    const row: ComparisonRow = { model: name, experiment: run.experimentName };
    for (const p of options.params ?? []) row[p] = run.params[p] ?? null;
    for (const m of metrics) {
      row[m] = values[m]?.value ?? null;
      row[`${m}_std`] = values[m]?.std ?? null;
      row[`${m}_source`] = values[m]?.key ?? null;
    }
    return row;
  });
  return { metrics, runs: entries, rows };
}

/** Grouped bars: one group per run, one bar per metric, CV std as error bars (none for single-split scores). */
export function comparisonFigure(comparison: ModelComparison, options: FigureOptions = {}): PlotlyFigure {
  const labels = comparison.runs.map((r) => r.label);
  const series: Record<string, number[]> = {};
  const errors: Record<string, number[]> = {};
  for (const m of comparison.metrics) {
    series[m] = comparison.runs.map((r) => r.values[m]?.value ?? NaN);
    errors[m] = comparison.runs.map((r) => r.values[m]?.std ?? 0);
  }
  const figure = groupedBarChart(labels, series, { title: options.title ?? "Model comparison (CV mean ± std where available)", yLabel: options.yLabel ?? "score", xLabel: options.xLabel ?? "", height: options.height, width: options.width, errors });
  figure.data.forEach((trace, i) => {
    const m = comparison.metrics[i];
    trace.customdata = comparison.runs.map((r) => r.values[m]?.key ?? "missing");
    trace.hovertemplate = `%{x}<br>${m} %{y:.4f}<br>%{customdata}<extra></extra>`;
  });
  figure.layout.yaxis = { ...(figure.layout.yaxis as object), rangemode: "tozero" };
  return figure;
}

export interface BestRunsOptions extends Omit<SearchRunsOptions, "experiment" | "orderBy" | "maxResults"> {
  /** Metric key to rank by (default "val_f1_macro"; the lookup of `resolveMetric` is not used here). */
  rankBy?: string;
  /** Runs kept per experiment (default 1). */
  perExperiment?: number;
  /** Lower is better (e.g. a loss). */
  ascending?: boolean;
}

/** The best `perExperiment` finished runs of each experiment by one metric (one per run name), experiments in the given order. */
export function bestRuns(experiments: readonly string[], options: BestRunsOptions = {}): RunSummary[] {
  const rankBy = options.rankBy ?? "val_f1_macro";
  const { rankBy: _r, perExperiment, ascending, ...search } = options;
  return experiments.flatMap((experiment) => {
    // A notebook re-run logs the same configurations again under the same run names: keep the best run of each
    // name, so the comparison lists different models, not copies of one.
    const seen = new Set<string>();
    return searchRuns({ status: "FINISHED", ...search, experiment, orderBy: `metrics.${rankBy} ${ascending ? "ASC" : "DESC"}` })
      .filter((run) => Number.isFinite(run.metrics[rankBy]))
      .filter((run) => {
        if (seen.has(run.runName)) return false;
        seen.add(run.runName);
        return true;
      })
      .slice(0, perExperiment ?? 1);
  });
}
