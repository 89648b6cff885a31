/**
 * PCA fitted on training rows (scikit-learn's PCA with a randomized-style subspace iteration): the top-k directions
 * of the centred data. Used to shrink the 1280-d backbone embedding before the image branch, so a fold trains in
 * seconds on a laptop CPU and the branch has far fewer weights to overfit with.
 */
import { gemmArrays } from "../util/gemm";
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

/** Orthonormalise the k rows of a k × d row-major matrix in place (modified Gram-Schmidt). */
function orthonormalRows(q: Float64Array, k: number, d: number): void {
  for (let j = 0; j < k; j++) {
    const rj = j * d;
    for (let p = 0; p < j; p++) {
      const dot = dotRows(q, rj, q, p * d, d);
      const rp = p * d;
      for (let i = 0; i < d; i++) q[rj + i] -= dot * q[rp + i];
    }
    const norm = Math.sqrt(dotRows(q, rj, q, rj, d)) || 1;
    for (let i = 0; i < d; i++) q[rj + i] /= norm;
  }
}

/** Σᵢ a[ai + i]·b[bi + i] over `length` entries, four partial sums (the loops below are all dot products: two loads
 * per multiply-add and no stores, which V8 runs several times faster than row updates). */
function dotRows(a: Float64Array, ai: number, b: Float64Array, bi: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += a[ai + i] * b[bi + i];
    s1 += a[ai + i + 1] * b[bi + i + 1];
    s2 += a[ai + i + 2] * b[bi + i + 2];
    s3 += a[ai + i + 3] * b[bi + i + 3];
  }
  for (; i < length; i++) s0 += a[ai + i] * b[bi + i];
  return s0 + s1 + s2 + s3;
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
  // Oversample the subspace for a better top-k (as randomized SVD does).
  const l = Math.min(d, n, k + 8);
  // The products with the data run in float32 SIMD (as scikit-learn's PCA does for float32 input); the basis is
  // orthonormalised in float64, kept as l rows of length d.
  const gemm = gemmArrays([n * d, d * l, n * l]);
  const [x, q, y] = gemm.arrays;
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) x[i * d + j] = m.data[r * d + j] - mean[j];
  });
  const rng = createRng(options.seed ?? 0);
  const qT = new Float64Array(l * d);
  for (let j = 0; j < d; j++) for (let c = 0; c < l; c++) qT[c * d + j] = rng.normal();
  orthonormalRows(qT, l, d);
  const loadBasis = (): void => {
    for (let j = 0; j < d; j++) for (let c = 0; c < l; c++) q[j * l + c] = qT[c * d + j];
  };
  const iterations = options.iterations ?? 3;
  for (let it = 0; it < iterations; it++) {
    loadBasis();
    gemm.multiply(x, q, y, n, l, d); // y = X q  (n × l)
    gemm.multiply(x, y, q, d, l, n, { transposeA: true }); // q = Xᵀ y  (d × l), then orthonormalise
    for (let j = 0; j < d; j++) for (let c = 0; c < l; c++) qT[c * d + j] = q[j * l + c];
    orthonormalRows(qT, l, d);
  }
  // Rayleigh-Ritz: eigen-decompose the l × l covariance of the projected data, rotate q onto its eigenvectors.
  loadBasis();
  gemm.multiply(x, q, y, n, l, d);
  const yT = new Float64Array(l * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < l; c++) yT[c * n + i] = y[i * l + c];
  const b = new Float64Array(l * l);
  for (let c = 0; c < l; c++) for (let e = 0; e < l; e++) b[c * l + e] = dotRows(yT, c * n, yT, e * n, n);
  const { values, vectors } = symmetricEigen(b, l);
  const order = Array.from(values, (v, c) => ({ c, v })).sort((p, r) => r.v - p.v || p.c - r.c);
  const components = new Float64Array(k * d);
  const explainedVariance = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    const c = order[t].c;
    explainedVariance[t] = order[t].v / Math.max(1, n - 1);
    for (let e = 0; e < l; e++) {
      const weight = vectors[e * l + c];
      for (let j = 0; j < d; j++) components[t * d + j] += weight * qT[e * d + j];
    }
  }
  return { mean, components, k, d, explainedVariance };
}

/** Project the given rows onto the components: rows × k. */
export function transformPca(pca: FittedPca, m: RowMatrix, rows: readonly number[]): RowMatrix {
  const { k, d } = pca;
  if (m.columns.length !== d) throw new Error(`transformPca: matrix has ${m.columns.length} columns, PCA was fitted on ${d}`);
  const gemm = gemmArrays([rows.length * d, d * k, rows.length * k]);
  const [centred, componentsT, out] = gemm.arrays;
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) centred[i * d + j] = m.data[r * d + j] - pca.mean[j];
  });
  for (let t = 0; t < k; t++) for (let j = 0; j < d; j++) componentsT[j * k + t] = pca.components[t * d + j];
  gemm.multiply(centred, componentsT, out, rows.length, k, d);
  return { columns: Array.from({ length: k }, (_, t) => `pc_${t + 1}`), rows: rows.length, data: out.slice() }; // a copy: `out` keeps the instance's memory alive
}
