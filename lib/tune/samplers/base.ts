import { createRng, hashString, type Rng } from "../../util/random";
import { distributionsEqual, isSingle, type Distribution, type SearchSpace } from "../distributions";
import type { FrozenTrial, JsonValue, StudyDirection, TrialState } from "../types";

/** What a sampler or pruner may see and do of the study it serves. */
export interface StudyView {
  readonly name: string;
  readonly direction: StudyDirection;
  getTrials(states?: readonly TrialState[]): FrozenTrial[];
  setTrialSystemAttr(trial: FrozenTrial, key: string, value: JsonValue): void;
  /** Ends `optimize()` after the running trial(s). */
  stop(): void;
}

/**
 * Optuna's sampler protocol. Values are internal numbers (categorical = choice index).
 * - relative sampling: before the objective runs, jointly sample a search space inferred from past trials;
 * - independent sampling: one parameter at a time, for parameters outside that space.
 */
export interface Sampler {
  inferRelativeSearchSpace(study: StudyView, trial: FrozenTrial): SearchSpace;
  sampleRelative(study: StudyView, trial: FrozenTrial, searchSpace: SearchSpace): Record<string, number>;
  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): number;
  beforeTrial?(study: StudyView, trial: FrozenTrial): void;
  afterTrial?(study: StudyView, trial: FrozenTrial, state: TrialState, value: number | null): void;
}

/**
 * A generator for one (trial, purpose) pair. Deriving it from the trial number rather than
 * advancing one shared stream makes a seeded study reproducible even when it is resumed or
 * shared between processes.
 */
export function trialRng(seed: number, trial: FrozenTrial, purpose: string): Rng {
  // mulberry32 streams are shifts of one cycle; a well-mixed seed keeps sibling streams
  // (e.g. two parameters of one trial) far apart on it.
  return createRng(fmix32(hashString(`${seed >>> 0}|${trial.number}|${purpose}`)));
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

/** Uniform draw in the distribution's internal representation, as Optuna's RandomSampler. */
export function sampleUniform(dist: Distribution, rng: Rng): number {
  if (dist.type === "categorical") return rng.int(dist.choices.length);
  if (dist.low === dist.high) return dist.low;
  if (dist.type === "float") {
    if (dist.log) return Math.min(dist.high, Math.max(dist.low, Math.exp(rng.uniform(Math.log(dist.low), Math.log(dist.high)))));
    if (dist.step !== null) {
      const n = Math.round((dist.high - dist.low) / dist.step);
      return Math.min(dist.high, dist.low + rng.int(n + 1) * dist.step);
    }
    return rng.uniform(dist.low, dist.high);
  }
  if (dist.log) {
    const v = Math.round(Math.exp(rng.uniform(Math.log(dist.low - 0.5), Math.log(dist.high + 0.5))));
    return Math.min(dist.high, Math.max(dist.low, v));
  }
  const n = Math.round((dist.high - dist.low) / dist.step);
  return dist.low + dist.step * rng.int(n + 1);
}

/**
 * Parameters present with identical distributions in every finished (complete or pruned) trial,
 * leaving out single-valued ones — Optuna's IntersectionSearchSpace.
 */
export function intersectionSearchSpace(trials: readonly FrozenTrial[]): SearchSpace {
  let space: SearchSpace | null = null;
  for (const trial of trials) {
    if (trial.state !== "COMPLETE" && trial.state !== "PRUNED") continue;
    if (space === null) {
      space = { ...trial.distributions };
      continue;
    }
    for (const name of Object.keys(space)) {
      const other = trial.distributions[name];
      if (!other || !distributionsEqual(other, space[name])) delete space[name];
    }
  }
  const result: SearchSpace = {};
  for (const [name, dist] of Object.entries(space ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!isSingle(dist)) result[name] = dist;
  }
  return result;
}
