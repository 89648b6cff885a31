/**
 * lib/experiment — the evaluation protocol used by notebooks 05–07 and `npm run cv`.
 *
 *   const data = await loadExperimentData({ embeddings: true });           // records + image statistics + MobileNetV2 embeddings
 *   const cv = await crossValidate(data, "FusionConcat", { folds: 5, seed: 1 });   // grouped stratified k-fold
 *   const split = await evaluateSingleSplit(data, "NetEngagementPOIFinal", { seed: 42 });   // the report's 72/13/15 split
 *
 * Per fold, on the training rows only: M2 tertile thresholds, metadata encoders and KMeans, statistics and embedding
 * scalers. Visits/Likes/Dislikes/Bookmarks only produce the labels. A mean accuracy above 0.95 sets `warning`.
 */
export * from "./data";
export * from "./protocol";
export * from "./cv";
export * from "./pca";
export { applyEmbeddingTransform, embeddingTransformOf, type EmbeddingTransform } from "./embedding-transform";
