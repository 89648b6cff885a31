/** Per-column standard scaling of a RowMatrix, fitted on the training rows only (scikit-learn's StandardScaler, ddof = 0). */
import type { RowMatrix } from "./matrix";

export interface FittedScaler {
  mean: Float64Array;
  std: Float64Array;
}

/** Column means and standard deviations over the given rows (std 0 → 1, so constant columns stay 0). */
export function fitStandardScaler(m: RowMatrix, rows: readonly number[]): FittedScaler {
  const w = m.columns.length;
  const mean = new Float64Array(w);
  const std = new Float64Array(w);
  if (rows.length === 0) throw new Error("fitStandardScaler: no training rows");
  for (const r of rows) for (let j = 0; j < w; j++) mean[j] += m.data[r * w + j];
  for (let j = 0; j < w; j++) mean[j] /= rows.length;
  for (const r of rows) for (let j = 0; j < w; j++) std[j] += (m.data[r * w + j] - mean[j]) ** 2;
  for (let j = 0; j < w; j++) {
    std[j] = Math.sqrt(std[j] / rows.length);
    if (!(std[j] > 1e-12)) std[j] = 1;
  }
  return { mean, std };
}

/** Scaled copy of the given rows. */
export function applyScaler(scaler: FittedScaler, m: RowMatrix, rows: readonly number[]): Float32Array {
  const w = m.columns.length;
  const out = new Float32Array(rows.length * w);
  rows.forEach((r, i) => {
    for (let j = 0; j < w; j++) out[i * w + j] = (m.data[r * w + j] - scaler.mean[j]) / scaler.std[j];
  });
  return out;
}
