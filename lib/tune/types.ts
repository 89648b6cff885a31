import type { Distribution, ParamValue } from "./distributions";

export type StudyDirection = "minimize" | "maximize";
/** WAITING = enqueued, not started yet. */
export type TrialState = "RUNNING" | "COMPLETE" | "PRUNED" | "FAIL" | "WAITING";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A read-only snapshot of one trial, as stored. */
export interface FrozenTrial {
  /** 0, 1, 2, … in the order trials were created within the study. */
  readonly number: number;
  /** Storage-wide id. */
  readonly trialId: number;
  readonly state: TrialState;
  /** Objective value; null unless COMPLETE. */
  readonly value: number | null;
  /** External values (what the objective received). */
  readonly params: Record<string, ParamValue>;
  readonly distributions: Record<string, Distribution>;
  /** step → reported value. */
  readonly intermediateValues: Record<number, number>;
  readonly userAttrs: Record<string, JsonValue>;
  readonly systemAttrs: Record<string, JsonValue>;
  readonly datetimeStart: Date | null;
  readonly datetimeComplete: Date | null;
  /** Milliseconds from start to completion; null while running. */
  readonly duration: number | null;
}

export class TrialPruned extends Error {
  constructor(message = "trial was pruned") {
    super(message);
    this.name = "TrialPruned";
  }
}

/** A write to a trial that is no longer RUNNING (finished, or failed as stale by another process). */
export class TrialNotRunningError extends Error {
  constructor(readonly number: number, readonly state: TrialState) {
    super(`trial ${number} is ${state}, not RUNNING: it cannot be changed`);
    this.name = "TrialNotRunningError";
  }
}

export function isFinished(state: TrialState): boolean {
  return state === "COMPLETE" || state === "PRUNED" || state === "FAIL";
}
