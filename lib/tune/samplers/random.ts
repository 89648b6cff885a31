import type { Distribution, SearchSpace } from "../distributions";
import type { FrozenTrial } from "../types";
import { randomSeed, sampleUniform, trialRng, type Sampler, type StudyView } from "./base";

/** Independent uniform sampling (log-uniform on log scales); the baseline every sampler must beat. */
export class RandomSampler implements Sampler {
  readonly seed: number;

  constructor(options: { seed?: number } = {}) {
    this.seed = options.seed ?? randomSeed();
  }

  inferRelativeSearchSpace(): SearchSpace {
    return {};
  }

  sampleRelative(): Record<string, number> {
    return {};
  }

  sampleIndependent(_study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): number {
    return sampleUniform(distribution, trialRng(this.seed, trial, `random:${name}`));
  }
}
