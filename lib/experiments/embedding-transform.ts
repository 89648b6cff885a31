import { applyScaler, fitStandardScaler, transformPca, type FittedPca, type FittedScaler, type RowMatrix } from "../features";

/** What prepareFold does to the raw embedding: optional train-fitted PCA, then a train-fitted standard scaler. */
export interface EmbeddingTransform {
  pca?: FittedPca;
  scaler: FittedScaler;
}

/** The embedding transform of a fold fitted on `trainIdx` (recomputed: the fitted steps are deterministic). */
export function embeddingTransformOf(embedding: RowMatrix, trainIdx: readonly number[], pca?: FittedPca): EmbeddingTransform {
  if (!pca) return { scaler: fitStandardScaler(embedding, trainIdx) };
  const projected = transformPca(pca, embedding, trainIdx);
  return { pca, scaler: fitStandardScaler(projected, trainIdx.map((_, i) => i)) };
}

/** Every row of a raw embedding matrix through the transform. */
export function applyEmbeddingTransform(t: EmbeddingTransform, m: RowMatrix): Float32Array {
  const all = Array.from({ length: m.rows }, (_, i) => i);
  const x = t.pca ? transformPca(t.pca, m, all) : m;
  return applyScaler(t.scaler, x, all);
}

