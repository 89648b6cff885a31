/**
 * Runs as rows for notebooks, like `mlflow.search_runs`: filter by experiment, tags, params or status,
 * sort by a metric, then show `runsTable(...)` with any table helper.
 */
import { getStore } from "./run";
import type { MetricPoint } from "./format";
import type { FileStore, RunStatus } from "./store";

export interface RunSummary {
  runId: string;
  runName: string;
  experimentId: string;
  experimentName: string;
  status: RunStatus;
  /** Milliseconds since the epoch. */
  startTime: number | null;
  endTime: number | null;
  /** (end - start) in seconds, null while running. */
  durationSeconds: number | null;
  params: Record<string, string>;
  /** Latest value of each metric (MLflow's rule: largest step, then timestamp). */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  artifactUri: string;
}

export interface SearchRunsOptions {
  /** Experiment name(s); default all experiments. */
  experiment?: string | string[];
  /** Runs whose tags have these exact values. */
  tags?: Record<string, string>;
  /** Runs whose params have these exact values (compared as text). */
  params?: Record<string, string | number | boolean>;
  status?: RunStatus | RunStatus[];
  /** "metrics.val_f1_macro DESC", "params.lr ASC", "start_time DESC" (default). */
  orderBy?: string;
  maxResults?: number;
  root?: string;
  store?: FileStore;
}

function sortValue(run: RunSummary, field: string): number | string | null {
  if (field.startsWith("metrics.")) return run.metrics[field.slice(8)] ?? null;
  if (field.startsWith("params.")) {
    const text = run.params[field.slice(7)];
    if (text === undefined) return null;
    return text !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
  }
  if (field.startsWith("tags.")) return run.tags[field.slice(5)] ?? null;
  const attributes: Record<string, number | string | null> = {
    start_time: run.startTime,
    end_time: run.endTime,
    run_name: run.runName,
    status: run.status,
    duration: run.durationSeconds,
  };
  if (!(field in attributes)) throw new Error(`orderBy: unknown field ${JSON.stringify(field)} (use metrics.<name>, params.<name>, tags.<name>, start_time, end_time, run_name, status, duration)`);
  return attributes[field];
}

/** Runs of the store as `RunSummary` rows, filtered and sorted (missing sort values last). */
export function searchRuns(options: SearchRunsOptions = {}): RunSummary[] {
  const store = options.store ?? getStore(options.root);
  const wanted = options.experiment === undefined ? undefined : new Set(Array.isArray(options.experiment) ? options.experiment : [options.experiment]);
  const statuses = options.status === undefined ? undefined : new Set(Array.isArray(options.status) ? options.status : [options.status]);
  const rows: RunSummary[] = [];
  for (const experiment of store.listExperiments()) {
    if (experiment.lifecycleStage !== "active") continue;
    if (wanted && !wanted.has(experiment.name)) continue;
    for (const runId of store.listRunIds(experiment.experimentId)) {
      const info = store.readRunInfo(experiment.experimentId, runId);
      if (info.lifecycleStage !== "active") continue;
      if (statuses && !statuses.has(info.status)) continue;
      const tags = store.readTags(info);
      if (options.tags && Object.entries(options.tags).some(([k, v]) => tags[k] !== v)) continue;
      const params = store.readParams(info);
      if (options.params && Object.entries(options.params).some(([k, v]) => params[k] !== String(v))) continue;
      rows.push({
        runId: info.runId,
        runName: info.runName,
        experimentId: experiment.experimentId,
        experimentName: experiment.name,
        status: info.status,
        startTime: info.startTime,
        endTime: info.endTime,
        durationSeconds: info.startTime !== null && info.endTime !== null ? (info.endTime - info.startTime) / 1000 : null,
        params,
        metrics: store.latestMetrics(info),
        tags,
        artifactUri: info.artifactUri,
      });
    }
  }
  const [field, direction] = (options.orderBy ?? "start_time DESC").trim().split(/\s+/);
  const descending = (direction ?? "ASC").toUpperCase() === "DESC";
  rows.sort((a, b) => {
    const va = sortValue(a, field);
    const vb = sortValue(b, field);
    if (va === null && vb === null) return a.runId.localeCompare(b.runId);
    if (va === null) return 1;
    if (vb === null) return -1;
    const order = va < vb ? -1 : va > vb ? 1 : 0;
    return (descending ? -order : order) || a.runId.localeCompare(b.runId);
  });
  return options.maxResults !== undefined ? rows.slice(0, options.maxResults) : rows;
}

export type RunsTableRow = Record<string, string | number | null>;

/**
 * Flat rows for display: run_id, run_name, experiment, status, start_time (ISO), duration_s, then
 * `params.<k>` and `metrics.<k>` columns (all of them, or only the ones asked for).
 */
export function runsTable(runs: readonly RunSummary[], columns: { params?: string[]; metrics?: string[]; tags?: string[] } = {}): RunsTableRow[] {
  const paramKeys = columns.params ?? [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = columns.metrics ?? [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const tagKeys = columns.tags ?? [];
  return runs.map((run) => {
    const row: RunsTableRow = {
      run_id: run.runId,
      run_name: run.runName,
      experiment: run.experimentName,
      status: run.status,
      start_time: run.startTime === null ? null : new Date(run.startTime).toISOString(),
      duration_s: run.durationSeconds,
    };
    for (const key of paramKeys) row[`params.${key}`] = run.params[key] ?? null;
    for (const key of metricKeys) row[`metrics.${key}`] = run.metrics[key] ?? null;
    for (const key of tagKeys) row[`tags.${key}`] = run.tags[key] ?? null;
    return row;
  });
}

/** Every logged value of one metric of one run, in logging order (for learning curves). */
export function getMetricHistory(runId: string, key: string, options: { root?: string; store?: FileStore } = {}): MetricPoint[] {
  const store = options.store ?? getStore(options.root);
  return store.metricHistory(store.findRun(runId), key);
}
