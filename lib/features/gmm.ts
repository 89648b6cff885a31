/**
 * Gaussian mixture with full covariances, fitted by EM (scikit-learn's GaussianMixture, covariance_type="full"):
 * k-means++ seeded starts, `nInit` restarts keeping the best log-likelihood, `regCovar` added to each diagonal.
 *
 *   const gmm = fitGaussianMixture(points, { k: 7, seed: 0 });   // points: number[][] (rows × d)
 *   gmm.weights, gmm.means, gmm.covariances, gmm.logLikelihood, gmmBic(gmm, n)
 *   predictGaussianMixture(gmm, points)                            // most probable component per row
 *
 * Plain arrays and a plain fitted object (no TensorFlow.js), so it can be saved as JSON.
 */
import { createRng } from "../util/random";

export interface FittedGaussianMixture {
  k: number;
  dim: number;
  weights: number[];
  means: number[][];
  /** Full covariance matrix per component, row-major d×d. */
  covariances: number[][][];
  /** Mean log-likelihood per row at convergence. */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

export interface GaussianMixtureOptions {
  k: number;
  seed: number;
  nInit?: number;
  maxIter?: number;
  tol?: number;
  regCovar?: number;
}

/** Lower-triangular Cholesky factor of a symmetric positive-definite matrix. */
function cholesky(a: number[][]): number[][] {
  const d = a.length;
  const l = a.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i][j];
      for (let p = 0; p < j; p++) sum -= l[i][p] * l[j][p];
      if (i === j) {
        if (!(sum > 0)) throw new Error("fitGaussianMixture: a covariance matrix is not positive definite (raise regCovar)");
        l[i][i] = Math.sqrt(sum);
      } else l[i][j] = sum / l[j][j];
    }
  }
  return l;
}

/** log N(x | mean, L Lᵀ) for each row. */
function logDensities(points: readonly number[][], mean: number[], chol: number[][]): Float64Array {
  const d = mean.length;
  let logDet = 0;
  for (let i = 0; i < d; i++) logDet += 2 * Math.log(chol[i][i]);
  const constant = -0.5 * (d * Math.log(2 * Math.PI) + logDet);
  const out = new Float64Array(points.length);
  const z = new Array<number>(d);
  points.forEach((x, r) => {
    // Solve L z = x − mean; the Mahalanobis distance is |z|².
    let q = 0;
    for (let i = 0; i < d; i++) {
      let s = x[i] - mean[i];
      for (let p = 0; p < i; p++) s -= chol[i][p] * z[p];
      z[i] = s / chol[i][i];
      q += z[i] * z[i];
    }
    out[r] = constant - 0.5 * q;
  });
  return out;
}

function kmeansPlusPlus(points: readonly number[][], k: number, rng: ReturnType<typeof createRng>): number[][] {
  const centres = [points[rng.int(points.length)].slice()];
  const dist = points.map((p) => squared(p, centres[0]));
  while (centres.length < k) {
    const total = dist.reduce((a, b) => a + b, 0);
    let u = rng.next() * total;
    let pick = points.length - 1;
    for (let i = 0; i < points.length; i++) {
      u -= dist[i];
      if (u <= 0) {
        pick = i;
        break;
      }
    }
    centres.push(points[pick].slice());
    points.forEach((p, i) => (dist[i] = Math.min(dist[i], squared(p, centres[centres.length - 1]))));
  }
  return centres;
}

function squared(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** Component log-probabilities per row (log πc + log N), and the log-sum per row. */
function eStep(points: readonly number[][], weights: number[], means: number[][], chols: number[][][]): { logResp: Float64Array[]; logNorm: Float64Array } {
  const k = weights.length;
  const logResp = means.map((m, c) => {
    const ld = logDensities(points, m, chols[c]);
    const lw = Math.log(weights[c]);
    for (let r = 0; r < ld.length; r++) ld[r] += lw;
    return ld;
  });
  const logNorm = new Float64Array(points.length);
  for (let r = 0; r < points.length; r++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logResp[c][r]);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(logResp[c][r] - max);
    logNorm[r] = max + Math.log(s);
    for (let c = 0; c < k; c++) logResp[c][r] -= logNorm[r];
  }
  return { logResp, logNorm };
}

function mStep(points: readonly number[][], logResp: Float64Array[], regCovar: number) {
  const n = points.length;
  const d = points[0].length;
  const weights: number[] = [];
  const means: number[][] = [];
  const covariances: number[][][] = [];
  for (const lr of logResp) {
    const resp = Array.from(lr, Math.exp);
    const nk = resp.reduce((a, b) => a + b, 0) + 10 * Number.EPSILON;
    const mean = new Array<number>(d).fill(0);
    points.forEach((x, r) => x.forEach((v, i) => (mean[i] += resp[r] * v)));
    for (let i = 0; i < d; i++) mean[i] /= nk;
    const cov = mean.map(() => new Array<number>(d).fill(0));
    points.forEach((x, r) => {
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) cov[i][j] += resp[r] * (x[i] - mean[i]) * (x[j] - mean[j]);
    });
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        cov[i][j] /= nk;
        cov[j][i] = cov[i][j];
      }
      cov[i][i] += regCovar;
    }
    weights.push(nk / n);
    means.push(mean);
    covariances.push(cov);
  }
  return { weights, means, covariances };
}

export function fitGaussianMixture(points: readonly number[][], options: GaussianMixtureOptions): FittedGaussianMixture {
  const { k, seed } = options;
  const nInit = options.nInit ?? 5;
  const maxIter = options.maxIter ?? 200;
  const tol = options.tol ?? 1e-4;
  const regCovar = options.regCovar ?? 1e-6;
  if (points.length < k) throw new Error(`fitGaussianMixture: ${points.length} rows cannot fill ${k} components`);
  const d = points[0].length;
  if (points.some((p) => p.length !== d || p.some((v) => !Number.isFinite(v)))) throw new Error("fitGaussianMixture: rows must be finite and of equal length");
  const rng = createRng(seed).fork("gmm");
  let best: FittedGaussianMixture | null = null;
  for (let init = 0; init < nInit; init++) {
    // Start: hard assignment to the nearest k-means++ centre, then one M step.
    const centres = kmeansPlusPlus(points, k, rng.fork(init));
    const hard = centres.map(() => new Float64Array(points.length).fill(-Infinity));
    points.forEach((p, r) => {
      let c = 0;
      for (let j = 1; j < k; j++) if (squared(p, centres[j]) < squared(p, centres[c])) c = j;
      hard[c][r] = 0;
    });
    let params = mStep(points, hard, regCovar);
    let previous = -Infinity;
    let logLikelihood = -Infinity;
    let iterations = 0;
    let converged = false;
    for (; iterations < maxIter; iterations++) {
      const { logResp, logNorm } = eStep(points, params.weights, params.means, params.covariances.map(cholesky));
      logLikelihood = logNorm.reduce((a, b) => a + b, 0) / points.length;
      if (Math.abs(logLikelihood - previous) < tol) {
        converged = true;
        break;
      }
      previous = logLikelihood;
      params = mStep(points, logResp, regCovar);
    }
    if (!best || logLikelihood > best.logLikelihood) best = { k, dim: d, ...params, logLikelihood, iterations, converged };
  }
  return best!;
}

/** The most probable component of each row. */
export function predictGaussianMixture(gmm: FittedGaussianMixture, points: readonly number[][]): number[] {
  const { logResp } = eStep(points, gmm.weights, gmm.means, gmm.covariances.map(cholesky));
  return points.map((_, r) => {
    let best = 0;
    for (let c = 1; c < gmm.k; c++) if (logResp[c][r] > logResp[best][r]) best = c;
    return best;
  });
}

/** Bayesian information criterion for `n` rows (lower is better), scikit-learn's formula. */
export function gmmBic(gmm: FittedGaussianMixture, n: number): number {
  const d = gmm.dim;
  const parameters = gmm.k * (d + (d * (d + 1)) / 2) + gmm.k - 1;
  return -2 * gmm.logLikelihood * n + parameters * Math.log(n);
}
