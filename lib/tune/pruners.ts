import type { StudyView } from "./samplers/base";
import type { FrozenTrial } from "./types";

export interface Pruner {
  /** Called by `trial.shouldPrune()` with the trial as stored (its reported values included). */
  prune(study: StudyView, trial: FrozenTrial): boolean;
}

export class NopPruner implements Pruner {
  prune(): boolean {
    return false;
  }
}

export interface PercentilePrunerOptions {
  /** Pruning is off until this many trials have completed. Optuna: 5. */
  nStartupTrials?: number;
  /** Pruning is off for the first steps of every trial (steps < nWarmupSteps). Optuna: 0. */
  nWarmupSteps?: number;
  /** Check only every `intervalSteps` steps after the warm-up. Optuna: 1. */
  intervalSteps?: number;
  /** At least this many completed trials must have reported at the step. Optuna: 1. */
  nMinTrials?: number;
}

/**
 * Prunes a trial whose best reported value so far is worse than the given percentile of what
 * completed trials reported at the same step (Optuna's PercentilePruner).
 */
export class PercentilePruner implements Pruner {
  private readonly nStartupTrials: number;
  private readonly nWarmupSteps: number;
  private readonly intervalSteps: number;
  private readonly nMinTrials: number;

  constructor(readonly percentile: number, options: PercentilePrunerOptions = {}) {
    if (!(percentile >= 0 && percentile <= 100)) throw new Error(`PercentilePruner: percentile must be in [0, 100], got ${percentile}`);
    this.nStartupTrials = options.nStartupTrials ?? 5;
    this.nWarmupSteps = options.nWarmupSteps ?? 0;
    this.intervalSteps = options.intervalSteps ?? 1;
    this.nMinTrials = options.nMinTrials ?? 1;
    if (this.intervalSteps < 1) throw new Error(`PercentilePruner: intervalSteps must be ≥ 1, got ${this.intervalSteps}`);
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    const completed = study.getTrials(["COMPLETE"]);
    if (completed.length === 0 || completed.length < this.nStartupTrials) return false;
    const steps = Object.keys(trial.intermediateValues).map(Number);
    if (steps.length === 0) return false;
    const step = Math.max(...steps);
    if (step < this.nWarmupSteps) return false;
    // Only the first report at or after each checkpoint (warm-up + k·interval) is checked.
    const checkpoint = Math.floor((step - this.nWarmupSteps) / this.intervalSteps) * this.intervalSteps + this.nWarmupSteps;
    const previous = steps.filter((s) => s !== step).reduce((m, s) => Math.max(m, s), -1);
    if (previous >= checkpoint) return false;

    const maximize = study.direction === "maximize";
    const own = steps.map((s) => trial.intermediateValues[s]).filter((v) => !Number.isNaN(v));
    if (own.length === 0) return true; // only NaN reported: as Optuna, prune
    const best = maximize ? Math.max(...own) : Math.min(...own);
    const atStep = completed.map((t) => t.intermediateValues[step]).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (atStep.length < this.nMinTrials || atStep.length === 0) return false;
    const threshold = percentileOf(atStep, maximize ? 100 - this.percentile : this.percentile);
    return maximize ? best < threshold : best > threshold;
  }
}

/** Prunes a trial whose best value so far is worse than the median of completed trials at the same step. */
export class MedianPruner extends PercentilePruner {
  constructor(options: PercentilePrunerOptions = {}) {
    super(50, options);
  }
}

/** numpy's default (linear interpolation) percentile. */
export function percentileOf(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
