import { contains, isSingle, toInternal, type Distribution, type SearchSpace } from "../distributions";
import type { FrozenTrial } from "../types";
import { intersectionSearchSpace, randomSeed, trialRng, type Sampler, type StudyView } from "./base";
import { ParzenEstimator, defaultGamma, defaultWeights, type ParzenEstimatorParameters } from "./parzen";
import { RandomSampler } from "./random";

export interface TpeSamplerOptions {
  seed?: number;
  /** Trials sampled at random before TPE starts (Optuna: 10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per suggestion; the one maximising l(x)/g(x) wins (Optuna: 24). */
  nEiCandidates?: number;
  /** Number of "good" trials out of n finished ones (Optuna: min(⌈0.1·n⌉, 25)). */
  gamma?: (n: number) => number;
  /** Observation weights, oldest first (Optuna: flat, ramped down beyond the newest 25). */
  weights?: (n: number) => number[];
  considerPrior?: boolean;
  priorWeight?: number;
  considerMagicClip?: boolean;
  /**
   * Magic clip: each numerical bandwidth is at least range · max(minBandwidthFactor, (1 + kernels)^−magicClipExponent,
   * minKernelVolume^(1/d)), d = numerical parameters modelled together. Optuna: 0.01, 1, none.
   * Ours: 0.01, 2 (Watanabe 2023's α) and 0.05⁵ (see DEFAULT_MIN_KERNEL_VOLUME).
   */
  minBandwidthFactor?: number;
  magicClipExponent?: number;
  minKernelVolume?: number;
  considerEndpoints?: boolean;
  /** Model parameters jointly (one kernel per trial over all parameters) instead of one by one. Ours: true; Optuna: false. */
  multivariate?: boolean;
  /** Kernel bandwidth rule, see ParzenEstimatorParameters.bandwidth. Ours: "optuna4"; Optuna 3.1: "optuna3". */
  bandwidth?: "optuna3" | "optuna4";
  /** See ParzenEstimatorParameters.peakNormalizedKernels. Ours: true (as Optuna 3.1 computes it). */
  peakNormalizedKernels?: boolean;
}

/** The settings of Optuna 3.1's default TPESampler, to reproduce it exactly (univariate). */
export const OPTUNA_31_TPE: TpeSamplerOptions = Object.freeze({
  nStartupTrials: 10,
  nEiCandidates: 24,
  multivariate: false,
  bandwidth: "optuna3",
  peakNormalizedKernels: true,
  minBandwidthFactor: 0.01,
  magicClipExponent: 1,
  minKernelVolume: 0,
});

/**
 * Our floor on the share of the search space one kernel covers: a bandwidth of at least 5 % of the range in
 * 5 dimensions, 0.7 % in 3, 8 % in 6. A fixed per-dimension floor either lets 5-D kernels shrink onto the first
 * good trials (rosenbrock5 then stalls) or keeps 2-D kernels too wide to refine (branin); a floor on the volume,
 * σ₁·…·σ_d, scales with the dimension. Chosen on held-out seeds, checked on held-out functions (bench/README.md).
 */
export const DEFAULT_MIN_KERNEL_VOLUME = 0.05 ** 5;

type Score = [stepKey: number, loss: number];

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), Optuna's algorithm.
 * Defaults: Optuna's (10 random startup trials, 24 EI candidates, γ(n) = min(⌈0.1·n⌉, 25), flat-then-ramped
 * weights, prior weight 1, no endpoints) except that parameters are modelled jointly (multivariate,
 * per-dimension neighbour bandwidths as in Optuna 4) and that the magic clip floors each kernel's volume
 * (see DEFAULT_MIN_KERNEL_VOLUME); both measured better on bench/tune (see bench/README.md). `new TpeSampler({ ...OPTUNA_31_TPE, seed })` reproduces Optuna 3.1's default.
 * Finished trials are split into the best γ(n) ("below", density l) and the rest ("above", density g);
 * candidates are drawn from l and the one with the largest log l − log g is suggested.
 * Pruned trials take part, ranked after complete ones by how far they got (Optuna's rule).
 */
export class TpeSampler implements Sampler {
  readonly seed: number;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly multivariate: boolean;
  private readonly parzen: ParzenEstimatorParameters;
  private readonly random: RandomSampler;

  constructor(options: TpeSamplerOptions = {}) {
    this.seed = options.seed ?? randomSeed();
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.multivariate = options.multivariate ?? true;
    this.parzen = {
      considerPrior: options.considerPrior ?? true,
      priorWeight: options.priorWeight ?? 1.0,
      considerMagicClip: options.considerMagicClip ?? true,
      minBandwidthFactor: options.minBandwidthFactor ?? 0.01,
      magicClipExponent: options.magicClipExponent ?? 2,
      minKernelVolume: options.minKernelVolume ?? DEFAULT_MIN_KERNEL_VOLUME,
      considerEndpoints: options.considerEndpoints ?? false,
      weights: options.weights ?? defaultWeights,
      multivariate: this.multivariate,
      bandwidth: options.bandwidth ?? "optuna4",
      peakNormalizedKernels: options.peakNormalizedKernels ?? true,
    };
    this.random = new RandomSampler({ seed: this.seed });
  }

  inferRelativeSearchSpace(study: StudyView): SearchSpace {
    if (!this.multivariate) return {};
    return intersectionSearchSpace(study.getTrials(["COMPLETE", "PRUNED"]));
  }

  sampleRelative(study: StudyView, trial: FrozenTrial, searchSpace: SearchSpace): Record<string, number> {
    const names = Object.keys(searchSpace);
    if (names.length === 0) return {};
    const trials = study.getTrials(["COMPLETE", "PRUNED"]);
    if (trials.length < this.nStartupTrials) return {};
    return this.sampleWithTpe(study, trial, trials, searchSpace, "relative");
  }

  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): number {
    if (isSingle(distribution)) return distribution.type === "categorical" ? 0 : distribution.low;
    const trials = study.getTrials(["COMPLETE", "PRUNED"]);
    if (trials.length < this.nStartupTrials) return this.random.sampleIndependent(study, trial, name, distribution);
    return this.sampleWithTpe(study, trial, trials, { [name]: distribution }, `independent:${name}`)[name];
  }

  private sampleWithTpe(
    study: StudyView,
    trial: FrozenTrial,
    trials: FrozenTrial[],
    space: SearchSpace,
    purpose: string,
  ): Record<string, number> {
    const sign = study.direction === "minimize" ? 1 : -1;
    const scores = trials.map((t) => score(t, sign));
    const nBelow = this.gamma(trials.length);
    const ranked = scores
      .map((s, i) => ({ s, i }))
      .sort((a, b) => a.s[0] - b.s[0] || compareLoss(a.s[1], b.s[1]) || a.i - b.i)
      .map((x) => x.i);
    // Chronological order within each group, so that the weights ramp favours recent trials.
    const below = ranked.slice(0, nBelow).sort((a, b) => a - b);
    const above = ranked.slice(nBelow).sort((a, b) => a - b);

    const names = Object.keys(space);
    const observe = (indices: number[]): Record<string, number[]> => {
      const obs: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
      for (const i of indices) {
        const t = trials[i];
        const values: number[] = [];
        for (const name of names) {
          const v = internalValue(t, name, space[name]);
          if (v === null) break;
          values.push(v);
        }
        // A trial without every parameter (or with a value outside today's range) is left out.
        if (values.length !== names.length) continue;
        names.forEach((n, j) => obs[n].push(values[j]));
      }
      return obs;
    };

    const rng = trialRng(this.seed, trial, `tpe:${purpose}`);
    const lowerModel = new ParzenEstimator(observe(below), space, this.parzen);
    const upperModel = new ParzenEstimator(observe(above), space, this.parzen);
    const candidates = lowerModel.sample(rng, this.nEiCandidates);
    const logL = lowerModel.logPdf(candidates);
    const logG = upperModel.logPdf(candidates);
    let best = 0;
    for (let i = 1; i < logL.length; i++) if (logL[i] - logG[i] > logL[best] - logG[best]) best = i;
    return Object.fromEntries(names.map((n) => [n, candidates[n][best]]));
  }
}

/** (stepKey, loss): complete trials first (−∞), then pruned ones by how late they stopped. */
function score(t: FrozenTrial, sign: number): Score {
  if (t.state === "COMPLETE") return [-Infinity, sign * (t.value as number)];
  const steps = Object.keys(t.intermediateValues).map(Number);
  if (steps.length === 0) return [1, 0];
  const last = Math.max(...steps);
  const v = t.intermediateValues[last];
  return [-last, Number.isNaN(v) ? Infinity : sign * v];
}

function compareLoss(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function internalValue(t: FrozenTrial, name: string, dist: Distribution): number | null {
  if (!(name in t.params)) return null;
  try {
    const v = toInternal(dist, t.params[name]);
    return contains(dist, v) || dist.type !== "categorical" && v >= dist.low && v <= dist.high ? v : null;
  } catch {
    return null;
  }
}
