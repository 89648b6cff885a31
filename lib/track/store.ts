/**
 * MLflow's file store (`mlruns/`) read and written directly, so `mlflow ui --backend-store-uri <root>`
 * shows the runs. Layout (as mlflow/store/tracking/file_store.py):
 *
 *   <root>/.trash/
 *   <root>/<experiment_id>/meta.yaml           experiment: artifact_location, creation_time, experiment_id,
 *                                              last_update_time, lifecycle_stage, name
 *   <root>/<experiment_id>/tags/<key>          experiment tags
 *   <root>/<experiment_id>/<run_id>/meta.yaml  run info (status as an int: RUNNING=1 … KILLED=5)
 *   <root>/<experiment_id>/<run_id>/params/<key>    the value, no trailing newline
 *   <root>/<experiment_id>/<run_id>/metrics/<key>   lines "<timestamp_ms> <value> <step>"
 *   <root>/<experiment_id>/<run_id>/tags/<key>      the value, no trailing newline
 *   <root>/<experiment_id>/<run_id>/artifacts/
 *
 * Safe for several processes at once: experiment ids are claimed with an exclusive lock file plus an
 * atomic mkdir, run ids are random UUIDs, metric lines are single O_APPEND writes, and meta.yaml/tag
 * rewrites go through write-to-temp + rename so a reader never sees half a file.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL, fileURLToPath } from "url";
import { dumpFlatYaml, EMPTY_LIST, metricLine, parseFlatYaml, parseMetricLines, type MetricPoint, type YamlValue } from "./format";

export const RUN_STATUS = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 } as const;
export type RunStatus = keyof typeof RUN_STATUS;
/** MLflow's SourceType.LOCAL, written into every run's meta.yaml. */
export const SOURCE_TYPE_LOCAL = 4;
export const DEFAULT_EXPERIMENT_ID = "0";
export const DEFAULT_EXPERIMENT_NAME = "Default";

export function statusFromCode(code: number): RunStatus {
  const entry = Object.entries(RUN_STATUS).find(([, value]) => value === code);
  if (!entry) throw new Error(`unknown MLflow run status code ${code}`);
  return entry[0] as RunStatus;
}

export interface ExperimentInfo {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTime: number | null;
  lastUpdateTime: number | null;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  lifecycleStage: string;
  artifactUri: string;
}

const RESERVED_EXPERIMENT_FOLDERS = new Set(["tags", "datasets", "traces"]);

/** Names MLflow accepts for params, metrics and tags: no path tricks, a safe character set. */
export function validateKey(kind: string, key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > 250) {
    throw new Error(`${kind} name must be a non-empty string of at most 250 characters, got ${JSON.stringify(key)}`);
  }
  if (!/^[\w\-. /]+$/.test(key)) {
    throw new Error(`${kind} name ${JSON.stringify(key)}: only letters, digits, _ - . / and spaces are allowed (MLflow's rule)`);
  }
  if (key.startsWith("/") || key.split("/").some((part) => part === ".." || part === "." || part === "")) {
    throw new Error(`${kind} name ${JSON.stringify(key)} must be a relative path without '.', '..' or empty parts`);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Write a whole file so that readers see either the old or the new content, never a mix. */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** Runs `fn` while holding an exclusive lock file (O_EXCL); a lock older than `staleMs` is broken. */
function withLockFile<T>(lockPath: string, fn: () => T, staleMs = 30_000, timeoutMs = 60_000): T {
  const started = Date.now();
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, "wx");
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - fs.statSync(lockPath).mtimeMs > staleMs) fs.rmSync(lockPath, { force: true });
      } catch {
        // The holder released it between our open and stat.
      }
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for lock ${lockPath}`);
      sleepSync(5 + Math.floor(Math.random() * 10));
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}

function readText(file: string): string {
  return fs.readFileSync(file, "utf8");
}

/** All files under `dir` as relative POSIX paths (keys with '/' are nested folders, as MLflow). */
function listFilesRecursive(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile() && !entry.name.endsWith(".tmp")) out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

export interface FileStoreOptions {
  /** Milliseconds since the epoch for creation/start/end times and metric timestamps (tests fix it). */
  clock?: () => number;
}

export class FileStore {
  readonly root: string;
  readonly now: () => number;

  constructor(root: string, options: FileStoreOptions = {}) {
    this.root = path.resolve(root);
    this.now = options.clock ?? Date.now;
    fs.mkdirSync(this.root, { recursive: true });
    fs.mkdirSync(path.join(this.root, ".trash"), { recursive: true });
    if (!fs.existsSync(path.join(this.root, DEFAULT_EXPERIMENT_ID, "meta.yaml"))) {
      this.withExperimentLock(() => {
        if (!fs.existsSync(path.join(this.root, DEFAULT_EXPERIMENT_ID, "meta.yaml"))) {
          fs.mkdirSync(path.join(this.root, DEFAULT_EXPERIMENT_ID), { recursive: true });
          this.writeExperimentMeta(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, this.now());
        }
      });
    }
  }

  private withExperimentLock<T>(fn: () => T): T {
    // A file, not a folder: MLflow treats every sub-folder of the root as an experiment.
    return withLockFile(path.join(this.root, ".experiments.lock"), fn);
  }

  private writeExperimentMeta(experimentId: string, name: string, time: number): void {
    const meta: Record<string, YamlValue> = {
      artifact_location: pathToFileURL(path.join(this.root, experimentId)).href,
      creation_time: time,
      experiment_id: experimentId,
      last_update_time: time,
      lifecycle_stage: "active",
      name,
    };
    writeFileAtomic(path.join(this.root, experimentId, "meta.yaml"), dumpFlatYaml(meta));
  }

  listExperiments(): ExperimentInfo[] {
    const out: ExperimentInfo[] = [];
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === ".trash" || entry.name === "models") continue;
      const metaFile = path.join(this.root, entry.name, "meta.yaml");
      if (!fs.existsSync(metaFile)) continue; // being created, or not an experiment
      const meta = parseFlatYaml(readText(metaFile), metaFile);
      out.push({
        experimentId: String(meta.experiment_id),
        name: String(meta.name),
        artifactLocation: String(meta.artifact_location ?? ""),
        lifecycleStage: String(meta.lifecycle_stage ?? "active"),
        creationTime: typeof meta.creation_time === "number" ? meta.creation_time : null,
        lastUpdateTime: typeof meta.last_update_time === "number" ? meta.last_update_time : null,
      });
    }
    return out.sort((a, b) => Number(a.experimentId) - Number(b.experimentId) || a.experimentId.localeCompare(b.experimentId));
  }

  getExperimentByName(name: string): ExperimentInfo | undefined {
    return this.listExperiments().find((e) => e.name === name && e.lifecycleStage === "active");
  }

  /** The id of the active experiment called `name`, creating it (next free integer id) if needed. */
  getOrCreateExperiment(name: string): string {
    if (typeof name !== "string" || name.trim() === "") throw new Error(`experiment name must be a non-empty string, got ${JSON.stringify(name)}`);
    const existing = this.getExperimentByName(name);
    if (existing) return existing.experimentId;
    return this.withExperimentLock(() => {
      const again = this.getExperimentByName(name);
      if (again) return again.experimentId;
      const used = fs
        .readdirSync(this.root)
        .concat(fs.existsSync(path.join(this.root, ".trash")) ? fs.readdirSync(path.join(this.root, ".trash")) : [])
        // MLflow ≥ 2.x picks huge random ids; count only small sequential ones (exact as JS numbers).
        .filter((n) => /^\d{1,15}$/.test(n))
        .map(Number);
      let id = used.length === 0 ? 1 : Math.max(...used) + 1;
      // mkdir is atomic: even a writer that ignores our lock cannot take the same id.
      for (;;) {
        try {
          fs.mkdirSync(path.join(this.root, String(id)));
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          id++;
        }
      }
      this.writeExperimentMeta(String(id), name, this.now());
      return String(id);
    });
  }

  experimentDir(experimentId: string): string {
    return path.join(this.root, experimentId);
  }

  runDir(experimentId: string, runId: string): string {
    return path.join(this.root, experimentId, runId);
  }

  /** Creates the run folder, meta.yaml (status RUNNING), params/, metrics/, artifacts/ and its tags. */
  createRun(options: { experimentId: string; runName: string; userId?: string; startTime?: number; tags?: Record<string, string> }): RunInfo {
    const experimentDir = this.experimentDir(options.experimentId);
    if (!fs.existsSync(path.join(experimentDir, "meta.yaml"))) throw new Error(`no experiment with id ${options.experimentId} in ${this.root}`);
    const runId = crypto.randomUUID().replace(/-/g, "");
    const runDir = this.runDir(options.experimentId, runId);
    const info: RunInfo = {
      runId,
      runName: options.runName,
      experimentId: options.experimentId,
      userId: options.userId ?? safeUserName(),
      status: "RUNNING",
      startTime: options.startTime ?? this.now(),
      endTime: null,
      lifecycleStage: "active",
      artifactUri: pathToFileURL(path.join(runDir, "artifacts")).href,
    };
    fs.mkdirSync(runDir);
    this.writeRunMeta(info);
    for (const sub of ["metrics", "params", "artifacts", "tags"]) fs.mkdirSync(path.join(runDir, sub), { recursive: true });
    this.setTag(info, "mlflow.runName", options.runName);
    for (const [key, value] of Object.entries(options.tags ?? {})) this.setTag(info, key, value);
    return info;
  }

  writeRunMeta(info: RunInfo, deletedTime: number | null = null): void {
    const meta: Record<string, YamlValue> = {
      artifact_uri: info.artifactUri,
      deleted_time: deletedTime,
      end_time: info.endTime,
      entry_point_name: "",
      experiment_id: info.experimentId,
      lifecycle_stage: info.lifecycleStage,
      run_id: info.runId,
      run_name: info.runName,
      run_uuid: info.runId,
      source_name: "",
      source_type: SOURCE_TYPE_LOCAL,
      source_version: "",
      start_time: info.startTime,
      status: RUN_STATUS[info.status],
      tags: EMPTY_LIST,
      user_id: info.userId,
    };
    writeFileAtomic(path.join(this.runDir(info.experimentId, info.runId), "meta.yaml"), dumpFlatYaml(meta));
  }

  readRunInfo(experimentId: string, runId: string): RunInfo {
    const metaFile = path.join(this.runDir(experimentId, runId), "meta.yaml");
    const meta = parseFlatYaml(readText(metaFile), metaFile);
    const runName =
      typeof meta.run_name === "string" && meta.run_name !== ""
        ? meta.run_name
        : this.readTag(experimentId, runId, "mlflow.runName") ?? "";
    return {
      runId: String(meta.run_id ?? meta.run_uuid),
      runName,
      experimentId: String(meta.experiment_id),
      userId: String(meta.user_id ?? ""),
      status: statusFromCode(typeof meta.status === "number" ? meta.status : RUN_STATUS.RUNNING),
      startTime: typeof meta.start_time === "number" ? meta.start_time : null,
      endTime: typeof meta.end_time === "number" ? meta.end_time : null,
      lifecycleStage: String(meta.lifecycle_stage ?? "active"),
      artifactUri: String(meta.artifact_uri ?? ""),
    };
  }

  /** Finds a run by id in any experiment. */
  findRun(runId: string): RunInfo {
    if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
    for (const experiment of this.listExperiments()) {
      if (fs.existsSync(path.join(this.runDir(experiment.experimentId, runId), "meta.yaml"))) {
        return this.readRunInfo(experiment.experimentId, runId);
      }
    }
    throw new Error(`run ${runId} not found in ${this.root}`);
  }

  listRunIds(experimentId: string): string[] {
    const dir = this.experimentDir(experimentId);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !RESERVED_EXPERIMENT_FOLDERS.has(e.name) && fs.existsSync(path.join(dir, e.name, "meta.yaml")))
      .map((e) => e.name)
      .sort();
  }

  logParam(run: RunInfo, key: string, value: unknown): void {
    validateKey("param", key);
    const file = path.join(this.runDir(run.experimentId, run.runId), "params", key);
    const text = paramText(value);
    if (fs.existsSync(file)) {
      const current = readText(file);
      if (current !== text) {
        throw new Error(
          `param ${JSON.stringify(key)} was already logged with value ${JSON.stringify(current)} for run ${run.runId}; MLflow params cannot change (attempted ${JSON.stringify(text)})`,
        );
      }
      return;
    }
    writeFileAtomic(file, text);
  }

  logMetric(run: RunInfo, key: string, value: number, step = 0, timestamp = this.now()): void {
    validateKey("metric", key);
    if (typeof value !== "number") throw new Error(`metric ${key}: value must be a number, got ${typeof value}`);
    if (!Number.isInteger(step)) throw new Error(`metric ${key}: step must be an integer, got ${step}`);
    const file = path.join(this.runDir(run.experimentId, run.runId), "metrics", key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // One small O_APPEND write per line: concurrent appenders never interleave inside a line.
    fs.appendFileSync(file, metricLine(timestamp, value, step));
  }

  setTag(run: RunInfo, key: string, value: unknown): void {
    validateKey("tag", key);
    writeFileAtomic(path.join(this.runDir(run.experimentId, run.runId), "tags", key), value === null || value === undefined ? "" : String(value));
  }

  readTag(experimentId: string, runId: string, key: string): string | undefined {
    const file = path.join(this.runDir(experimentId, runId), "tags", key);
    return fs.existsSync(file) ? readText(file) : undefined;
  }

  setExperimentTag(experimentId: string, key: string, value: unknown): void {
    validateKey("tag", key);
    writeFileAtomic(path.join(this.experimentDir(experimentId), "tags", key), value === null || value === undefined ? "" : String(value));
  }

  readParams(run: RunInfo): Record<string, string> {
    return this.readKeyValueFolder(run, "params");
  }

  readTags(run: RunInfo): Record<string, string> {
    return this.readKeyValueFolder(run, "tags");
  }

  private readKeyValueFolder(run: RunInfo, folder: string): Record<string, string> {
    const dir = path.join(this.runDir(run.experimentId, run.runId), folder);
    const out: Record<string, string> = {};
    for (const key of listFilesRecursive(dir)) out[key] = readText(path.join(dir, key));
    return out;
  }

  metricKeys(run: RunInfo): string[] {
    return listFilesRecursive(path.join(this.runDir(run.experimentId, run.runId), "metrics"));
  }

  metricHistory(run: RunInfo, key: string): MetricPoint[] {
    validateKey("metric", key);
    const file = path.join(this.runDir(run.experimentId, run.runId), "metrics", key);
    if (!fs.existsSync(file)) return [];
    return parseMetricLines(readText(file), file);
  }

  /** MLflow's "latest" value: the point with the largest (step, timestamp, value). */
  latestMetrics(run: RunInfo): Record<string, number> {
    const out: Record<string, number> = {};
    for (const key of this.metricKeys(run)) {
      const points = this.metricHistory(run, key);
      if (points.length === 0) continue;
      let best = points[0];
      for (const p of points) {
        if (p.step > best.step || (p.step === best.step && (p.timestamp > best.timestamp || (p.timestamp === best.timestamp && p.value > best.value)))) best = p;
      }
      out[key] = best.value;
    }
    return out;
  }

  artifactsDir(run: RunInfo): string {
    return path.join(this.runDir(run.experimentId, run.runId), "artifacts");
  }

  /** Local folder of a run's artifacts from its artifact URI (falls back to the run folder). */
  artifactsPath(run: RunInfo): string {
    if (run.artifactUri.startsWith("file:")) return fileURLToPath(run.artifactUri);
    return this.artifactsDir(run);
  }

  listArtifacts(run: RunInfo): string[] {
    return listFilesRecursive(this.artifactsPath(run));
  }
}

/** Param values as text: strings as-is, numbers and booleans via String, other values as JSON. */
export function paramText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

export function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}
