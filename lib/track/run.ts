/**
 * The MLflow tracking API people know, on the file store in store.ts:
 *
 *   const run = startRun({ experiment: "fusion", runName: "late-fusion-a2" });
 *   run.logParams({ lr: 1e-3, batchSize: 32 });
 *   run.logMetric("val_loss", 0.71, 3);
 *   run.logArtifact("outputs/figures/cm.svg", "val");
 *   run.endRun();            // FINISHED; "FAILED" / "KILLED" also accepted
 *
 * Module-level `logParam`, `logMetric`, … act on the innermost active run, like `mlflow.log_param`.
 * A process that exits with active runs ends them FINISHED (exit code 0) or FAILED (otherwise), as
 * MLflow's atexit hook does; a run killed outright stays RUNNING, with everything logged so far intact.
 */
import * as fs from "fs";
import * as path from "path";
import { outputsDir, PROJECT_ROOT } from "../data/paths";
import { FileStore, type RunInfo, type RunStatus, safeUserName, validateKey, writeFileAtomic } from "./store";
import type { MetricPoint } from "./format";

let trackingRoot: string | undefined;
const stores = new Map<string, FileStore>();

/** Where runs are stored: `setTrackingUri(dir)`, else `$MLFLOW_TRACKING_DIR`, else outputs/mlruns. */
export function getTrackingUri(): string {
  return trackingRoot ?? process.env.MLFLOW_TRACKING_DIR ?? outputsDir("mlruns");
}

/** Like `mlflow.set_tracking_uri`: a folder path or a `file://` URI. */
export function setTrackingUri(uri: string): void {
  trackingRoot = uri.startsWith("file:") ? new URL(uri).pathname : path.resolve(uri);
}

export function getStore(root: string = getTrackingUri()): FileStore {
  const resolved = path.resolve(root);
  let store = stores.get(resolved);
  if (!store) {
    store = new FileStore(resolved);
    stores.set(resolved, store);
  }
  return store;
}

export interface StartRunOptions {
  /** Experiment name (created if missing); default "Default" (id 0). */
  experiment?: string;
  runName?: string;
  /** Resume an existing run by id instead of creating one. */
  runId?: string;
  tags?: Record<string, string>;
  description?: string;
  /** Store root; default getTrackingUri(). */
  root?: string;
  /** Give a FileStore directly (e.g. one with a fixed clock in tests). */
  store?: FileStore;
  /** Nested runs record their parent (tag mlflow.parentRunId), like `start_run(nested=True)`. */
  parentRunId?: string;
}

export interface ArtifactContent {
  name: string;
  content: string | Buffer;
}

const ADJECTIVES = ["amber", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "gentle", "keen", "lucid", "merry", "nimble", "quiet", "rapid", "sharp", "silent", "steady", "swift", "vivid"];
const NOUNS = ["badger", "crane", "falcon", "fox", "heron", "ibis", "lark", "lynx", "marten", "otter", "owl", "panda", "raven", "robin", "seal", "stoat", "swan", "tern", "vole", "wren"];

function randomRunName(): string {
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`;
}

function gitCommit(): string | undefined {
  try {
    const gitDir = path.join(PROJECT_ROOT, ".git");
    const head = fs.readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    const refFile = path.join(gitDir, ref);
    if (fs.existsSync(refFile)) return fs.readFileSync(refFile, "utf8").trim();
    const packed = fs.readFileSync(path.join(gitDir, "packed-refs"), "utf8");
    const line = packed.split("\n").find((l) => l.endsWith(` ${ref}`));
    return line?.split(" ")[0];
  } catch {
    return undefined;
  }
}

const activeRuns: Run[] = [];
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", (code) => {
    for (const run of [...activeRuns].reverse()) {
      try {
        run.endRun(code === 0 ? "FINISHED" : "FAILED");
      } catch {
        // Exiting anyway; the run keeps status RUNNING.
      }
    }
  });
}

export class Run {
  readonly store: FileStore;
  private runInfo: RunInfo;

  constructor(store: FileStore, info: RunInfo) {
    this.store = store;
    this.runInfo = info;
  }

  get info(): RunInfo {
    return { ...this.runInfo };
  }
  get runId(): string {
    return this.runInfo.runId;
  }
  get runName(): string {
    return this.runInfo.runName;
  }
  get experimentId(): string {
    return this.runInfo.experimentId;
  }
  get status(): RunStatus {
    return this.runInfo.status;
  }
  /** Local folder holding this run's artifacts. */
  get artifactsDir(): string {
    return this.store.artifactsPath(this.runInfo);
  }

  logParam(key: string, value: unknown): this {
    this.store.logParam(this.runInfo, key, value);
    return this;
  }

  logParams(params: Record<string, unknown>): this {
    for (const [key, value] of Object.entries(params)) this.logParam(key, value);
    return this;
  }

  logMetric(key: string, value: number, step = 0, timestamp?: number): this {
    this.store.logMetric(this.runInfo, key, value, step, timestamp ?? this.store.now());
    return this;
  }

  logMetrics(metrics: Record<string, number | null | undefined>, step = 0): this {
    const timestamp = this.store.now();
    for (const [key, value] of Object.entries(metrics)) {
      if (value !== null && value !== undefined) this.store.logMetric(this.runInfo, key, value, step, timestamp);
    }
    return this;
  }

  setTag(key: string, value: unknown): this {
    this.store.setTag(this.runInfo, key, value);
    if (key === "mlflow.runName" && typeof value === "string" && value !== this.runInfo.runName) {
      this.runInfo = { ...this.runInfo, runName: value };
      this.store.writeRunMeta(this.runInfo);
    }
    return this;
  }

  setTags(tags: Record<string, unknown>): this {
    for (const [key, value] of Object.entries(tags)) this.setTag(key, value);
    return this;
  }

  /**
   * Copies a local file (or writes `{name, content}`) into the run's artifacts, under `artifactPath`
   * (a sub-folder such as "val") when given. Returns the stored file's path.
   */
  logArtifact(file: string | ArtifactContent, artifactPath?: string): string {
    if (artifactPath !== undefined) validateKey("artifact path", artifactPath);
    const dir = artifactPath ? path.join(this.artifactsDir, artifactPath) : this.artifactsDir;
    if (typeof file === "string") {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Error(`logArtifact: ${file} is not a file`);
      const target = path.join(dir, path.basename(file));
      writeFileAtomic(target, fs.readFileSync(file));
      return target;
    }
    validateKey("artifact", file.name);
    const target = path.join(dir, file.name);
    writeFileAtomic(target, file.content);
    return target;
  }

  /** Copies every file of a local folder into the artifacts (like `mlflow.log_artifacts`). */
  logArtifacts(localDir: string, artifactPath?: string): void {
    const walk = (sub: string): void => {
      for (const entry of fs.readdirSync(path.join(localDir, sub), { withFileTypes: true })) {
        const rel = sub ? path.join(sub, entry.name) : entry.name;
        if (entry.isDirectory()) walk(rel);
        else if (entry.isFile()) {
          const folder = [artifactPath, path.dirname(rel) === "." ? undefined : path.dirname(rel)].filter(Boolean).join("/");
          this.logArtifact(path.join(localDir, rel), folder || undefined);
        }
      }
    };
    walk("");
  }

  /** `mlflow.log_text(text, artifact_file)`: artifact_file may contain folders ("val/report.txt"). */
  logText(text: string, artifactFile: string): string {
    validateKey("artifact", artifactFile);
    const target = path.join(this.artifactsDir, artifactFile);
    writeFileAtomic(target, text);
    return target;
  }

  /** `mlflow.log_dict(obj, "x.json")`: JSON with indent 2, as MLflow writes it. */
  logDict(value: unknown, artifactFile: string): string {
    return this.logText(JSON.stringify(value, null, 2), artifactFile);
  }

  metricHistory(key: string): MetricPoint[] {
    return this.store.metricHistory(this.runInfo, key);
  }

  /** Marks the run ended (FINISHED by default) with its end time. */
  endRun(status: RunStatus = "FINISHED"): void {
    this.runInfo = { ...this.runInfo, status, endTime: this.store.now() };
    this.store.writeRunMeta(this.runInfo);
    const index = activeRuns.indexOf(this);
    if (index >= 0) activeRuns.splice(index, 1);
  }
}

/** Starts (or resumes, with `runId`) a run and makes it the active run. */
export function startRun(options: StartRunOptions = {}): Run {
  const store = options.store ?? getStore(options.root);
  let run: Run;
  if (options.runId) {
    const info = store.findRun(options.runId);
    run = new Run(store, { ...info, status: "RUNNING", endTime: null });
    store.writeRunMeta(run.info);
    if (options.tags) run.setTags(options.tags);
  } else {
    const experimentId = options.experiment ? store.getOrCreateExperiment(options.experiment) : "0";
    const runName = options.runName ?? randomRunName();
    const tags: Record<string, string> = {
      "mlflow.user": safeUserName(),
      "mlflow.source.name": process.argv[1] ? path.relative(PROJECT_ROOT, process.argv[1]) || process.argv[1] : "",
      "mlflow.source.type": "LOCAL",
    };
    const commit = gitCommit();
    if (commit) tags["mlflow.source.git.commit"] = commit;
    if (options.description) tags["mlflow.note.content"] = options.description;
    if (options.parentRunId) tags["mlflow.parentRunId"] = options.parentRunId;
    Object.assign(tags, options.tags ?? {});
    run = new Run(store, store.createRun({ experimentId, runName, tags }));
  }
  activeRuns.push(run);
  installExitHook();
  return run;
}

/**
 * Runs `body` inside a run like Python's `with mlflow.start_run():` — FINISHED when it returns,
 * FAILED (and rethrown) when it throws.
 */
export async function withRun<T>(options: StartRunOptions, body: (run: Run) => T | Promise<T>): Promise<T> {
  const run = startRun(options);
  try {
    const result = await body(run);
    run.endRun("FINISHED");
    return result;
  } catch (error) {
    run.endRun("FAILED");
    throw error;
  }
}

/** The innermost run started and not yet ended, if any. */
export function activeRun(): Run | undefined {
  return activeRuns[activeRuns.length - 1];
}

function requireActive(caller: string): Run {
  const run = activeRun();
  if (!run) throw new Error(`${caller}: no active run; call startRun({ experiment, runName }) first`);
  return run;
}

export function logParam(key: string, value: unknown): void {
  requireActive("logParam").logParam(key, value);
}
export function logParams(params: Record<string, unknown>): void {
  requireActive("logParams").logParams(params);
}
export function logMetric(key: string, value: number, step = 0): void {
  requireActive("logMetric").logMetric(key, value, step);
}
export function logMetrics(metrics: Record<string, number | null | undefined>, step = 0): void {
  requireActive("logMetrics").logMetrics(metrics, step);
}
export function setTag(key: string, value: unknown): void {
  requireActive("setTag").setTag(key, value);
}
export function setTags(tags: Record<string, unknown>): void {
  requireActive("setTags").setTags(tags);
}
export function logArtifact(file: string | ArtifactContent, artifactPath?: string): string {
  return requireActive("logArtifact").logArtifact(file, artifactPath);
}
export function logText(text: string, artifactFile: string): string {
  return requireActive("logText").logText(text, artifactFile);
}
export function logDict(value: unknown, artifactFile: string): string {
  return requireActive("logDict").logDict(value, artifactFile);
}
/** Ends the active run (FINISHED by default). */
export function endRun(status: RunStatus = "FINISHED"): void {
  activeRun()?.endRun(status);
}
