import { randomUUID } from "node:crypto";
import {
  categoricalDistribution,
  checkCompatible,
  contains,
  distributionsEqual,
  floatDistribution,
  intDistribution,
  toExternal,
  toInternal,
  type CategoricalChoice,
  type Distribution,
  type ParamValue,
  type SearchSpace,
} from "./distributions";
import { MedianPruner, type Pruner } from "./pruners";
import type { Sampler, StudyView } from "./samplers/base";
import { TpeSampler } from "./samplers/tpe";
import { InMemoryStorage } from "./storage/memory";
import { RdbStorage } from "./storage/rdb";
import type { StudyStorage } from "./storage/types";
import { TrialNotRunningError, TrialPruned, type FrozenTrial, type JsonValue, type StudyDirection, type TrialState } from "./types";

export interface CreateStudyOptions {
  /** Study name; required to find the study again in persistent storage. Default: a random "no-name-…". */
  name?: string;
  direction?: StudyDirection;
  /** Default: TpeSampler with Optuna's defaults (unseeded). */
  sampler?: Sampler;
  /** Default: MedianPruner, as in Optuna. */
  pruner?: Pruner;
  /**
   * A storage object, or a database URL as Optuna takes it: "postgresql://user:password@host:port/db", or
   * "sqlite:///path/to/file.db" (or just the file path). The study is kept in Optuna's own schema, so Optuna and
   * optuna-dashboard open it. Default: in memory. For heartbeats, pass `new RdbStorage(url, { heartbeatIntervalS })`.
   */
  storage?: StudyStorage | string;
  /** Resume the study if it exists (otherwise creating an existing name is an error). */
  loadIfExists?: boolean;
  /** 1: one line per finished trial (Optuna's INFO log); 0: silent. Default 1. */
  verbosity?: 0 | 1;
}

export type Objective = (trial: Trial) => number | Promise<number>;

export interface OptimizeOptions {
  /** Trials to run in this call (in this process; other processes sharing the study add theirs). */
  nTrials?: number;
  /** Stop starting new trials after this many seconds. */
  timeout?: number;
  /** Error classes that mark the trial FAIL and go on; any other error ends optimize() (after recording FAIL). */
  catch?: (new (...args: never[]) => Error)[];
  /** Called after each finished trial, e.g. to stop the study early. */
  callbacks?: ((study: Study, trial: FrozenTrial) => void)[];
  /** Overrides the study's verbosity for this call. */
  verbosity?: 0 | 1;
}

function resolveStorage(storage: StudyStorage | string | undefined): StudyStorage {
  if (storage === undefined) return new InMemoryStorage();
  if (typeof storage === "string") return new RdbStorage(storage);
  return storage;
}

export function createStudy(options: CreateStudyOptions = {}): Study {
  const storage = resolveStorage(options.storage);
  const summary = storage.createStudy(options.name ?? `no-name-${randomUUID()}`, options.direction ?? "minimize", options.loadIfExists ?? false);
  if (options.direction !== undefined && summary.direction !== options.direction) {
    throw new Error(`study "${summary.name}" exists with direction ${summary.direction}, not ${options.direction}`);
  }
  return new Study(summary.name, summary.studyId, summary.direction, storage, options);
}

/** Opens an existing study (error naming it when absent). */
export function loadStudy(options: Omit<CreateStudyOptions, "direction" | "loadIfExists"> & { name: string; storage: StudyStorage | string }): Study {
  const storage = resolveStorage(options.storage);
  const summary = storage.getStudy(options.name);
  return new Study(summary.name, summary.studyId, summary.direction, storage, options);
}

/** A study: one objective, its trials, and how to choose the next parameters. */
export class Study {
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  verbosity: 0 | 1;
  private stopRequested = false;
  /** The narrow interface handed to samplers and pruners. */
  readonly view: StudyView;

  constructor(
    readonly name: string,
    readonly studyId: number,
    readonly direction: StudyDirection,
    readonly storage: StudyStorage,
    options: { sampler?: Sampler; pruner?: Pruner; verbosity?: 0 | 1 } = {},
  ) {
    this.sampler = options.sampler ?? new TpeSampler();
    this.pruner = options.pruner ?? new MedianPruner();
    this.verbosity = options.verbosity ?? 1;
    this.view = {
      name,
      direction,
      getTrials: (states) => this.getTrials(states),
      setTrialSystemAttr: (trial, key, value) => storage.setTrialSystemAttr(trial.trialId, key, value),
      stop: () => this.stop(),
    };
  }

  /** All trials, in number order (read from storage: includes other processes' trials). */
  get trials(): FrozenTrial[] {
    return this.storage.getAllTrials(this.studyId);
  }

  getTrials(states?: readonly TrialState[]): FrozenTrial[] {
    return this.storage.getAllTrials(this.studyId, states);
  }

  /** The best COMPLETE trial (the first one on ties). */
  get bestTrial(): FrozenTrial {
    const complete = this.getTrials(["COMPLETE"]);
    if (complete.length === 0) throw new Error(`study "${this.name}" has no completed trial yet`);
    const better = (a: number, b: number): boolean => (this.direction === "minimize" ? a < b : a > b);
    return complete.reduce((best, t) => (better(t.value as number, best.value as number) ? t : best));
  }

  get bestValue(): number {
    return this.bestTrial.value as number;
  }

  get bestParams(): Record<string, ParamValue> {
    return this.bestTrial.params;
  }

  /** Ends a running `optimize()` once the current trial finishes. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Queues a trial whose suggestions return these values (others are sampled), run before new
   * sampled trials. With `skipIfExists`, nothing is queued when a trial with the same params exists.
   */
  enqueueTrial(params: Record<string, ParamValue>, options: { skipIfExists?: boolean } = {}): void {
    if (options.skipIfExists) {
      const same = this.trials.some((t) => Object.entries(params).every(([k, v]) => {
        const fixed = (t.systemAttrs.fixed_params as Record<string, ParamValue> | undefined)?.[k];
        return t.params[k] === v || (t.state === "WAITING" && fixed === v);
      }));
      if (same) return;
    }
    this.storage.enqueueTrial(this.studyId, params as Record<string, JsonValue>);
  }

  /** Starts a trial (ask-and-tell interface); finish it with `tell`. */
  ask(): Trial {
    const frozen = this.storage.startTrial(this.studyId);
    let current = frozen;
    if (this.sampler.beforeTrial) {
      this.sampler.beforeTrial(this.view, frozen);
      current = this.storage.getTrial(frozen.trialId);
    }
    const relativeSpace = this.sampler.inferRelativeSearchSpace(this.view, current);
    const relativeParams = this.sampler.sampleRelative(this.view, current, relativeSpace);
    return new Trial(this, current, relativeSpace, relativeParams);
  }

  /** Finishes a trial: a number = COMPLETE with that value; or an explicit state. */
  tell(trial: Trial | number, result: number | { state: "PRUNED" | "FAIL"; reason?: string }): FrozenTrial {
    const trialObject = typeof trial === "number" ? null : trial;
    const trialId = trialObject ? trialObject.trialId : this.trials.find((t) => t.number === trial)?.trialId;
    if (trialId === undefined) throw new Error(`study "${this.name}" has no trial number ${trial}`);
    let state: "COMPLETE" | "PRUNED" | "FAIL";
    let value: number | null = null;
    let reason: string | undefined;
    if (typeof result === "number") {
      if (Number.isNaN(result)) {
        state = "FAIL";
        reason = "the objective returned NaN";
      } else {
        state = "COMPLETE";
        value = result;
      }
    } else {
      state = result.state;
      reason = result.reason;
    }
    if (reason) this.storage.setTrialSystemAttr(trialId, "fail_reason", reason);
    this.storage.finishTrial(trialId, state, value);
    // A Trial knows what was written to it: no need to read it back.
    const frozen = trialObject ? trialObject.finished(state, value, reason) : this.storage.getTrial(trialId);
    this.sampler.afterTrial?.(this.view, frozen, state, value);
    return frozen;
  }

  /** Runs trials one after another until nTrials, timeout (s), stop() or the sampler (grid exhausted) ends it. */
  async optimize(objective: Objective, options: OptimizeOptions = {}): Promise<void> {
    const verbosity = options.verbosity ?? this.verbosity;
    this.stopRequested = false;
    const started = Date.now();
    for (let i = 0; options.nTrials === undefined || i < options.nTrials; i++) {
      if (this.stopRequested) break;
      if (options.timeout !== undefined && (Date.now() - started) / 1000 >= options.timeout) break;
      const frozen = await this.runTrial(objective, options, verbosity);
      for (const callback of options.callbacks ?? []) callback(this, frozen);
    }
  }

  private async runTrial(objective: Objective, options: OptimizeOptions, verbosity: 0 | 1): Promise<FrozenTrial> {
    // As Optuna: with heartbeats on, every new trial first fails the trials whose process died.
    if (this.storage.heartbeatIntervalMs !== null) this.failStaleTrials(verbosity);
    const trial = this.ask();
    const stopHeartbeat = this.storage.startHeartbeat(trial.trialId);
    let outcome: number | { state: "PRUNED" | "FAIL"; reason?: string };
    let rethrow: unknown = null;
    try {
      const value = await objective(trial);
      outcome = typeof value === "number" ? value : { state: "FAIL", reason: `the objective returned ${JSON.stringify(value)}, not a number` };
    } catch (error) {
      if (error instanceof TrialPruned) {
        outcome = { state: "PRUNED" };
      } else {
        outcome = { state: "FAIL", reason: error instanceof Error ? error.message : String(error) };
        const caught = (options.catch ?? []).some((cls) => error instanceof cls);
        if (!caught) rethrow = error;
      }
    } finally {
      stopHeartbeat();
    }
    let frozen: FrozenTrial;
    try {
      frozen = this.tell(trial, outcome);
    } catch (error) {
      if (!(error instanceof TrialNotRunningError)) throw error;
      // Another process judged it stale (no heartbeat within the grace period) and failed it.
      frozen = this.storage.getTrial(trial.trialId);
      if (verbosity > 0) console.warn(`Trial ${trial.number} was marked ${frozen.state} by another process while it ran; its result is dropped.`);
    }
    if (verbosity > 0) console.log(this.describe(frozen));
    if (rethrow !== null) throw rethrow;
    return frozen;
  }

  private failStaleTrials(verbosity: 0 | 1): void {
    const stale = this.storage.failStaleTrials(this.studyId);
    if (stale.length > 0 && verbosity > 0) {
      console.log(`Marked stale trial(s) ${stale.join(", ")} as FAIL (no heartbeat: their process died).`);
    }
  }

  /** Optuna's one-line log of a finished trial. */
  describe(trial: FrozenTrial): string {
    const params = JSON.stringify(trial.params).replace(/,"/g, ', "').replace(/":/g, '": ');
    if (trial.state === "COMPLETE") {
      const best = this.bestTrial;
      return `Trial ${trial.number} finished with value: ${formatValue(trial.value as number)} and parameters: ${params}. Best is trial ${best.number} with value: ${formatValue(best.value as number)}.`;
    }
    if (trial.state === "PRUNED") return `Trial ${trial.number} pruned.`;
    return `Trial ${trial.number} failed with parameters: ${params} because of the following error: ${String(trial.systemAttrs.fail_reason ?? "unknown")}.`;
  }

  /** One plain row per trial (number, state, value, duration, params_*, user_attrs_*), like Optuna's trials_dataframe. */
  trialsTable(): Record<string, ParamValue | JsonValue>[] {
    return this.trials.map((t) => {
      const row: Record<string, ParamValue | JsonValue> = {
        number: t.number,
        state: t.state,
        value: t.value,
        duration_ms: t.duration,
      };
      for (const [k, v] of Object.entries(t.params)) row[`params_${k}`] = v;
      for (const [k, v] of Object.entries(t.userAttrs)) row[`user_attrs_${k}`] = v;
      return row;
    });
  }
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** The handle an objective receives: suggest parameters, report progress, ask whether to stop. */
export class Trial {
  private frozen: FrozenTrial;

  constructor(
    readonly study: Study,
    frozen: FrozenTrial,
    private readonly relativeSpace: SearchSpace,
    private readonly relativeParams: Record<string, number>,
  ) {
    this.frozen = frozen;
  }

  get number(): number {
    return this.frozen.number;
  }

  get trialId(): number {
    return this.frozen.trialId;
  }

  get params(): Record<string, ParamValue> {
    return { ...this.frozen.params };
  }

  get distributions(): Record<string, Distribution> {
    return { ...this.frozen.distributions };
  }

  get userAttrs(): Record<string, JsonValue> {
    return { ...this.frozen.userAttrs };
  }

  get datetimeStart(): Date | null {
    return this.frozen.datetimeStart;
  }

  /** A float in [low, high]; `log`: sampled on a log scale; `step`: on the grid low, low+step, … */
  suggestFloat(name: string, low: number, high: number, options: { log?: boolean; step?: number | null } = {}): number {
    return this.suggest(name, floatDistribution(name, low, high, options)) as number;
  }

  /** An integer in [low, high] (both included). */
  suggestInt(name: string, low: number, high: number, options: { log?: boolean; step?: number } = {}): number {
    return this.suggest(name, intDistribution(name, low, high, options)) as number;
  }

  suggestCategorical<T extends CategoricalChoice>(name: string, choices: readonly T[]): T {
    return this.suggest(name, categoricalDistribution(name, choices)) as T;
  }

  private suggest(name: string, distribution: Distribution): ParamValue {
    const existing = this.frozen.distributions[name];
    if (existing) {
      checkCompatible(name, existing, distribution);
      return this.frozen.params[name];
    }
    const fixed = this.frozen.systemAttrs.fixed_params as Record<string, ParamValue> | undefined;
    let internal: number;
    if (fixed && name in fixed) {
      try {
        internal = toInternal(distribution, fixed[name]);
      } catch (error) {
        throw new Error(`enqueued trial ${this.number}: parameter "${name}": ${(error as Error).message}`);
      }
      if (!contains(distribution, internal) && this.study.verbosity > 0) {
        console.warn(`Trial ${this.number}: enqueued value ${fixed[name]} of "${name}" is outside the suggested range; using it anyway.`);
      }
    } else if (name in this.relativeParams && this.relativeSpace[name] && distributionsEqual(this.relativeSpace[name], distribution)) {
      internal = this.relativeParams[name];
    } else {
      internal = this.study.sampler.sampleIndependent(this.study.view, this.frozen, name, distribution);
    }
    // Stored as the objective sees it (a stepped float on its grid, an int as an integer), so that Optuna, which
    // reads the stored number back as the value, shows the same parameter.
    if (distribution.type !== "categorical") internal = toInternal(distribution, toExternal(distribution, internal));
    this.study.storage.setTrialParam(this.trialId, name, distribution, internal);
    const value = toExternal(distribution, internal);
    // What was just written, without reading the trial back.
    this.frozen = { ...this.frozen, params: { ...this.frozen.params, [name]: value }, distributions: { ...this.frozen.distributions, [name]: distribution } };
    return value;
  }

  /** This trial as stored once `tell` has finished it. */
  finished(state: "COMPLETE" | "PRUNED" | "FAIL", value: number | null, failReason?: string): FrozenTrial {
    const complete = new Date();
    const start = this.frozen.datetimeStart;
    return {
      ...this.frozen,
      state,
      value,
      systemAttrs: failReason ? { ...this.frozen.systemAttrs, fail_reason: failReason } : this.frozen.systemAttrs,
      datetimeComplete: complete,
      duration: start === null ? null : complete.getTime() - start.getTime(),
    };
  }

  /** Records an intermediate value (e.g. validation loss after epoch `step`). A repeated step is ignored, as in Optuna. */
  report(value: number, step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new Error(`trial ${this.number}: report step must be an integer ≥ 0, got ${step}`);
    if (typeof value !== "number") throw new Error(`trial ${this.number}: report value must be a number, got ${JSON.stringify(value)}`);
    if (step in this.frozen.intermediateValues) return;
    this.study.storage.setIntermediateValue(this.trialId, step, value);
    this.frozen = { ...this.frozen, intermediateValues: { ...this.frozen.intermediateValues, [step]: value } };
  }

  /** Asks the study's pruner; when true, `throw new TrialPruned()`. */
  shouldPrune(): boolean {
    return this.study.pruner.prune(this.study.view, this.frozen);
  }

  setUserAttr(key: string, value: JsonValue): void {
    this.study.storage.setTrialUserAttr(this.trialId, key, value);
    this.frozen = { ...this.frozen, userAttrs: { ...this.frozen.userAttrs, [key]: structuredClone(value) } };
  }
}
