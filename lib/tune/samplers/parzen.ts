import type { Rng } from "../../util/random";
import type { Distribution, SearchSpace } from "../distributions";
import { logGaussMass, truncnormLogPdf, truncnormSample } from "./truncnorm";

export interface ParzenEstimatorParameters {
  considerPrior: boolean;
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  weights: (n: number) => number[];
  multivariate: boolean;
  /**
   * Bandwidth of numerical kernels. "optuna3": Optuna ≤ 3.x — distance to the farther neighbour with the
   * prior's centre counted as a neighbour, or Scott's rule (0.2·n^(−1/(d+4))·range) when multivariate.
   * "optuna4": Optuna ≥ 3.5/4 — farther-neighbour distance among the observations only (prior left out),
   * used per dimension in the multivariate case too.
   */
  bandwidth: "optuna3" | "optuna4";
  /**
   * Score continuous kernels by their height relative to their peak (exp(−z²/2) over the truncated
   * mass) instead of as normalised densities (which also divide by σ). Optuna ≤ 3.4 does this (its
   * truncnorm.logpdf omits −log σ); it keeps narrow kernels around the best trials from dominating
   * l(x)/g(x) and measured better on our benchmarks. Discrete parameters use probability masses either way.
   */
  peakNormalizedKernels: boolean;
  /**
   * Magic clip (when considerMagicClip): numerical bandwidths are at least
   * range · max(minBandwidthFactor, (1 + kernels)^−magicClipExponent, minKernelVolume^(1/d)), with d the number of
   * numerical parameters in this estimator (1 when univariate). Optuna: 0.01, 1, 0 (range / min(100, 1 + kernels)).
   */
  minBandwidthFactor: number;
  magicClipExponent: number;
  minKernelVolume: number;
}

/** Bandwidth factor of the multivariate kernel (Scott's rule scale used by BOHB and Optuna). */
const SIGMA0_MAGNITUDE = 0.2;

interface NumericalKernel {
  kind: "numerical";
  /** Bounds in the transformed (log, if log-scale) domain, widened by half a step for discrete params. */
  low: number;
  high: number;
  /** Step for discrete params (in the transformed domain), null for continuous. */
  q: number | null;
  log: boolean;
  mus: number[];
  sigmas: number[];
  dist: Distribution;
}

interface CategoricalKernel {
  kind: "categorical";
  /** One probability vector over the choices per mixture component. */
  probs: number[][];
}

type Kernel = NumericalKernel | CategoricalKernel;

/**
 * A mixture with one component per observation (plus a wide prior component): truncated
 * Gaussians for numbers, smoothed one-hot distributions for categories. TPE builds one on the
 * good trials, l(x), and one on the rest, g(x). Parameters are independent within a component;
 * with `multivariate` one component covers all parameters jointly (same component index).
 */
export class ParzenEstimator {
  private readonly names: string[];
  private readonly kernels: Kernel[];
  readonly weights: number[];
  private readonly peakNormalized: boolean;

  /** `observations[name][i]`: internal value of parameter `name` in observation i (same length for all names). */
  constructor(observations: Record<string, number[]>, searchSpace: SearchSpace, params: ParzenEstimatorParameters) {
    this.names = Object.keys(searchSpace);
    this.peakNormalized = params.peakNormalizedKernels;
    const n = this.names.length === 0 ? 0 : observations[this.names[0]].length;
    const considerPrior = params.considerPrior || n === 0;

    const w = params.weights(n).slice(0, n);
    const weights = considerPrior ? [...w, params.priorWeight] : w;
    const total = weights.reduce((s, x) => s + x, 0);
    this.weights = weights.map((x) => x / total);

    const numericalDims = this.names.filter((name) => searchSpace[name].type !== "categorical").length;
    const volumeFactor = params.minKernelVolume > 0 ? params.minKernelVolume ** (1 / Math.max(1, numericalDims)) : 0;
    const sigma0 = params.multivariate && params.bandwidth === "optuna3" ? SIGMA0_MAGNITUDE * Math.max(n, 1) ** (-1 / (this.names.length + 4)) : null;
    this.kernels = this.names.map((name) => {
      const dist = searchSpace[name];
      const obs = observations[name];
      if (dist.type === "categorical") {
        const k = dist.choices.length;
        const fill = params.priorWeight / (considerPrior ? n + 1 : n);
        const rows = considerPrior ? n + 1 : n;
        const probs: number[][] = [];
        for (let i = 0; i < rows; i++) {
          const row = new Array<number>(k).fill(fill);
          if (i < n) row[obs[i]] += 1;
          const sum = row.reduce((s, x) => s + x, 0);
          probs.push(row.map((x) => x / sum));
        }
        return { kind: "categorical", probs };
      }
      const { low, high, q } = parzenBounds(dist);
      const values = dist.log ? obs.map(Math.log) : obs.slice();
      const mus = considerPrior ? [...values, 0.5 * (low + high)] : values;
      let sigmas: number[];
      if (sigma0 !== null) {
        sigmas = mus.map(() => sigma0 * (high - low));
      } else if (params.bandwidth === "optuna3") {
        sigmas = neighbourBandwidths(mus, low, high, params.considerEndpoints);
      } else {
        sigmas = [...neighbourBandwidths(values, low, high, params.considerEndpoints), high - low].slice(0, mus.length);
      }
      const maxSigma = high - low;
      const nKernels = params.bandwidth === "optuna3" ? mus.length : n + 1;
      const minSigma = params.considerMagicClip
        ? (high - low) * Math.max(params.minBandwidthFactor, volumeFactor, (1 + nKernels) ** -params.magicClipExponent)
        : 1e-12;
      sigmas = sigmas.map((s) => Math.min(maxSigma, Math.max(minSigma, s)));
      if (considerPrior) sigmas[n] = high - low;
      return { kind: "numerical", low, high, q, log: dist.log, mus, sigmas, dist };
    });
  }

  /** `size` draws (internal values) from the mixture. */
  sample(rng: Rng, size: number): Record<string, number[]> {
    const cumulative: number[] = [];
    let acc = 0;
    for (const w of this.weights) cumulative.push((acc += w));
    const active: number[] = [];
    for (let i = 0; i < size; i++) {
      const u = rng.next() * acc;
      let k = cumulative.findIndex((c) => u < c);
      if (k < 0) k = cumulative.length - 1;
      active.push(k);
    }
    const out: Record<string, number[]> = {};
    this.names.forEach((name, p) => {
      const kernel = this.kernels[p];
      out[name] = active.map((k) => {
        if (kernel.kind === "categorical") {
          const u = rng.next();
          let c = 0;
          let cum = kernel.probs[k][0];
          while (c < kernel.probs[k].length - 1 && cum < u) cum += kernel.probs[k][++c];
          return c;
        }
        const x = truncnormSample(rng.next(), kernel.mus[k], kernel.sigmas[k], kernel.low, kernel.high);
        return fromTransformed(kernel, x);
      });
    });
    return out;
  }

  /** log density (log probability for discrete params) of each sample under the mixture. */
  logPdf(samples: Record<string, number[]>): number[] {
    const size = this.names.length === 0 ? 0 : samples[this.names[0]].length;
    const logW = this.weights.map(Math.log);
    const result: number[] = [];
    for (let i = 0; i < size; i++) {
      const components = logW.slice();
      this.names.forEach((name, p) => {
        const kernel = this.kernels[p];
        const value = samples[name][i];
        for (let k = 0; k < components.length; k++) components[k] += componentLogPdf(kernel, k, value, this.peakNormalized);
      });
      const max = Math.max(...components);
      if (max === -Infinity) {
        result.push(-Infinity);
        continue;
      }
      let sum = 0;
      for (const c of components) sum += Math.exp(c - max);
      result.push(max + Math.log(sum));
    }
    return result;
  }
}

function componentLogPdf(kernel: Kernel, k: number, value: number, peakNormalized: boolean): number {
  if (kernel.kind === "categorical") return Math.log(kernel.probs[k][value]);
  const mu = kernel.mus[k];
  const sigma = kernel.sigmas[k];
  const x = kernel.log ? Math.log(value) : value;
  if (kernel.q === null) return truncnormLogPdf(x, mu, sigma, kernel.low, kernel.high) + (peakNormalized ? Math.log(sigma) : 0);
  // Discrete: probability mass of the cell [x − q/2, x + q/2] within the bounds.
  const lower = Math.max(x - kernel.q / 2, kernel.low);
  const upper = Math.min(x + kernel.q / 2, kernel.high);
  return logGaussMass((lower - mu) / sigma, (upper - mu) / sigma) - logGaussMass((kernel.low - mu) / sigma, (kernel.high - mu) / sigma);
}

/** Kernel support: log domain for log scales, discrete ranges widened by half a step each side. */
function parzenBounds(dist: Exclude<Distribution, { type: "categorical" }>): { low: number; high: number; q: number | null } {
  if (dist.type === "float") {
    if (dist.log) return { low: Math.log(dist.low), high: Math.log(dist.high), q: null };
    if (dist.step !== null) return { low: dist.low - 0.5 * dist.step, high: dist.high + 0.5 * dist.step, q: dist.step };
    return { low: dist.low, high: dist.high, q: null };
  }
  if (dist.log) return { low: Math.log(dist.low - 0.5), high: Math.log(dist.high + 0.5), q: null };
  return { low: dist.low - 0.5 * dist.step, high: dist.high + 0.5 * dist.step, q: dist.step };
}

function fromTransformed(kernel: NumericalKernel, x: number): number {
  const dist = kernel.dist as Exclude<Distribution, { type: "categorical" }>;
  let v = kernel.log ? Math.exp(x) : x;
  if (dist.type === "int") {
    v = dist.log ? Math.round(v) : Math.round((v - dist.low) / dist.step) * dist.step + dist.low;
  } else if (dist.step !== null) {
    v = Math.round((v - dist.low) / dist.step) * dist.step + dist.low;
  }
  return Math.min(dist.high, Math.max(dist.low, v));
}

/** Univariate bandwidth: distance to the farther neighbour (the bounds count as neighbours). */
function neighbourBandwidths(mus: number[], low: number, high: number, considerEndpoints: boolean): number[] {
  const order = mus.map((_, i) => i).sort((a, b) => mus[a] - mus[b] || a - b);
  const sorted = [low, ...order.map((i) => mus[i]), high];
  const sortedSigmas: number[] = [];
  for (let j = 1; j < sorted.length - 1; j++) sortedSigmas.push(Math.max(sorted[j] - sorted[j - 1], sorted[j + 1] - sorted[j]));
  if (!considerEndpoints && sorted.length >= 4) {
    sortedSigmas[0] = sorted[2] - sorted[1];
    sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2] - sorted[sorted.length - 3];
  }
  const sigmas = new Array<number>(mus.length);
  order.forEach((i, j) => (sigmas[i] = sortedSigmas[j]));
  return sigmas;
}

/** Optuna's default: equal weights, older trials ramped down once there are more than 25. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const rampLength = n - 25;
  const ramp = Array.from({ length: rampLength }, (_, i) => (rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1)));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/** Optuna's default split: the best ⌈10 %⌉ of trials (at most 25) are "good". */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}
