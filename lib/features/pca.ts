/**
 * PCA fitted on training rows (scikit-learn's PCA with a randomized-style subspace iteration): the top-k directions
 * of the centred data. Used to shrink the 1280-d backbone embedding before the image branch, so a fold trains in
 * seconds on a laptop CPU and the branch has far fewer weights to overfit with.
 */
import { createRng } from "../util/random";
import type { RowMatrix } from "./matrix";

export interface FittedPca {
  mean: Float64Array;
  /** k × d, row-major, orthonormal rows. */
  components: Float64Array;
  k: number;
  d: number;
  /** Variance of the training rows along each component. */
  explainedVariance: Float64Array;
}

/** Orthonormalise the k columns of a d × k row-major matrix in place (modified Gram-Schmidt). */
function orthonormalColumns(q: Float64Array, d: number, k: number): void {
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i * k + j] * q[i * k + p];
      for (let i = 0; i < d; i++) q[i * k + j] -= dot * q[i * k + p];
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += q[i * k + j] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < d; i++) q[i * k + j] /= norm;
  }
}

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major l × l) of a symmetric matrix, by cyclic Jacobi. */
function symmetricEigen(matrix: Float64Array, l: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(l * l);
  for (let i = 0; i < l; i++) v[i * l + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < l; p++) for (let r = p + 1; r < l; r++) off += a[p * l + r] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < l; p++) {
      for (let r = p + 1; r < l; r++) {
        const apr = a[p * l + r];
        if (Math.abs(apr) < 1e-300) continue;
        const theta = (a[r * l + r] - a[p * l + p]) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const akp = a[k * l + p];
          const akr = a[k * l + r];
          a[k * l + p] = c * akp - s * akr;
          a[k * l + r] = s * akp + c * akr;
        }
        for (let k = 0; k < l; k++) {
          const apk = a[p * l + k];
          const ark = a[r * l + k];
          a[p * l + k] = c * apk - s * ark;
          a[r * l + k] = s * apk + c * ark;
        }
        for (let k = 0; k < l; k++) {
          const vkp = v[k * l + p];
          const vkr = v[k * l + r];
          v[k * l + p] = c * vkp - s * vkr;
          v[k * l + r] = s * vkp + c * vkr;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: l }, (_, i) => a[i * l + i]), vectors: v };
}

/** Top-k principal directions of the given rows of `m` (seeded, deterministic). */
export function fitPca(m: RowMatrix, rows: readonly number[], k: number, options: { seed?: number; iterations?: number } = {}): FittedPca {
  const d = m.columns.length;
  const n = rows.length;
  if (!(k >= 1 && k <= Math.min(d, n))) throw new Error(`fitPca: k must be in [1, ${Math.min(d, n)}], got ${k}`);
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += m.data[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const x = new Float64Array(n * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) x[i * d + j] = m.data[r * d + j] - mean[j];
  });
  const rng = createRng(options.seed ?? 0);
  // Oversample the subspace for a better top-k (as randomized SVD does).
  const l = Math.min(d, n, k + 8);
  let q = new Float64Array(d * l);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  orthonormalColumns(q, d, l);
  const y = new Float64Array(n * l);
  const iterations = options.iterations ?? 3;
  for (let it = 0; it < iterations; it++) {
    // y = X q  (n × l)
    y.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        if (v === 0) continue;
        for (let c = 0; c < l; c++) y[i * l + c] += v * q[j * l + c];
      }
    }
    // q = Xᵀ y  (d × l), then orthonormalise
    const next = new Float64Array(d * l);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        if (v === 0) continue;
        for (let c = 0; c < l; c++) next[j * l + c] += v * y[i * l + c];
      }
    }
    orthonormalColumns(next, d, l);
    q = next;
  }
  // Rayleigh-Ritz: eigen-decompose the l × l covariance of the projected data, rotate q onto its eigenvectors.
  y.fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) for (let c = 0; c < l; c++) y[i * l + c] += x[i * d + j] * q[j * l + c];
  const b = new Float64Array(l * l);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < l; c++) for (let e = c; e < l; e++) b[c * l + e] += y[i * l + c] * y[i * l + e];
  }
  for (let c = 0; c < l; c++) for (let e = 0; e < c; e++) b[c * l + e] = b[e * l + c];
  const { values, vectors } = symmetricEigen(b, l);
  const order = Array.from(values, (v, c) => ({ c, v })).sort((p, r) => r.v - p.v || p.c - r.c);
  const components = new Float64Array(k * d);
  const explainedVariance = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    const c = order[t].c;
    explainedVariance[t] = order[t].v / Math.max(1, n - 1);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let e = 0; e < l; e++) s += q[j * l + e] * vectors[e * l + c];
      components[t * d + j] = s;
    }
  }
  return { mean, components, k, d, explainedVariance };
}

/** Project the given rows onto the components: rows × k. */
export function transformPca(pca: FittedPca, m: RowMatrix, rows: readonly number[]): RowMatrix {
  const { k, d } = pca;
  if (m.columns.length !== d) throw new Error(`transformPca: matrix has ${m.columns.length} columns, PCA was fitted on ${d}`);
  const out = new Float32Array(rows.length * k);
  rows.forEach((r, i) => {
    for (let t = 0; t < k; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (m.data[r * d + j] - pca.mean[j]) * pca.components[t * d + j];
      out[i * k + t] = s;
    }
  });
  return { columns: Array.from({ length: k }, (_, t) => `pc_${t + 1}`), rows: rows.length, data: out };
}
