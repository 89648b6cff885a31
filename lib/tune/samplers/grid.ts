import type { CategoricalChoice, Distribution, SearchSpace } from "../distributions";
import { toInternal } from "../distributions";
import type { FrozenTrial, TrialState } from "../types";
import { randomSeed, trialRng, type Sampler, type StudyView } from "./base";

const GRID_ID = "grid_id";

/**
 * Tries every combination of the given values once (Optuna's GridSampler): each trial takes a
 * not-yet-visited grid point (seeded random order), and the study stops when all were visited.
 * The objective must suggest exactly the parameters of the grid, with ranges containing the values.
 */
export class GridSampler implements Sampler {
  readonly seed: number;
  private readonly names: string[];
  private readonly values: CategoricalChoice[][];
  readonly gridSize: number;

  constructor(searchSpace: Record<string, readonly CategoricalChoice[]>, options: { seed?: number } = {}) {
    this.seed = options.seed ?? randomSeed();
    this.names = Object.keys(searchSpace).sort();
    this.values = this.names.map((n) => {
      if (searchSpace[n].length === 0) throw new Error(`GridSampler: parameter "${n}" has no values`);
      return [...searchSpace[n]];
    });
    this.gridSize = this.values.reduce((p, v) => p * v.length, 1);
  }

  /** Parameter values of grid point `id` (mixed-radix decoding, last name varies fastest). */
  gridPoint(id: number): Record<string, CategoricalChoice> {
    const point: Record<string, CategoricalChoice> = {};
    let rest = id;
    for (let i = this.names.length - 1; i >= 0; i--) {
      const k = this.values[i].length;
      point[this.names[i]] = this.values[i][rest % k];
      rest = Math.floor(rest / k);
    }
    return point;
  }

  inferRelativeSearchSpace(): SearchSpace {
    return {};
  }

  sampleRelative(): Record<string, number> {
    return {};
  }

  beforeTrial(study: StudyView, trial: FrozenTrial): void {
    if (typeof trial.systemAttrs[GRID_ID] === "number") return;
    // An enqueued trial with fixed params keeps them; it does not take a grid point.
    if (trial.systemAttrs.fixed_params) return;
    const unvisited = this.unvisited(study.getTrials());
    const rng = trialRng(this.seed, trial, "grid");
    // When every point is taken by running trials, repeat one (Optuna does the same).
    const id = unvisited.length > 0 ? unvisited[rng.int(unvisited.length)] : rng.int(this.gridSize);
    study.setTrialSystemAttr(trial, GRID_ID, id);
  }

  sampleIndependent(_study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): number {
    const id = trial.systemAttrs[GRID_ID];
    if (!this.names.includes(name)) throw new Error(`GridSampler: parameter "${name}" is not in the grid (${this.names.join(", ")})`);
    if (typeof id !== "number") throw new Error(`GridSampler: trial ${trial.number} has no grid point`);
    const value = this.gridPoint(id)[name];
    const internal = toInternal(distribution, value);
    if (distribution.type !== "categorical" && (internal < distribution.low || internal > distribution.high)) {
      throw new Error(`GridSampler: value ${value} of "${name}" is outside the suggested range [${distribution.low}, ${distribution.high}]`);
    }
    return internal;
  }

  afterTrial(study: StudyView, trial: FrozenTrial, _state: TrialState): void {
    const others = study.getTrials().filter((t) => t.number !== trial.number);
    const taken = new Set(this.visited([...others, trial]));
    if (taken.size >= this.gridSize) study.stop();
  }

  private visited(trials: readonly FrozenTrial[]): number[] {
    return trials.map((t) => t.systemAttrs[GRID_ID]).filter((id): id is number => typeof id === "number");
  }

  private unvisited(trials: readonly FrozenTrial[]): number[] {
    const taken = new Set(this.visited(trials));
    const out: number[] = [];
    for (let id = 0; id < this.gridSize; id++) if (!taken.has(id)) out.push(id);
    return out;
  }
}

