/**
 * lib/features — generic model inputs, scikit-learn style (no TensorFlow.js): preprocessors fit on training rows and
 * return plain JSON; transforms are pure. The POI table's own recipe is in lib/poi.
 *
 *   const folds = stratifiedGroupKFold(items, { k: 5, seed: 0, groupKeys: (it) => [it.group], stratify: (it) => it.label });
 *   const parts = stratifiedGroupSplit(items, { seed: 0, testFraction: 0.15, valFraction: 0.15, stratify: (it) => it.label });
 *   const scaler = fitStandardScaler(matrix, folds[0].train);  applyScaler(scaler, matrix, folds[0].val);
 *   const pca = fitPca(matrix, trainRows, 64);  transformPca(pca, matrix, rows);
 *   fitKMeans(points, 3, { seed: 42 });  blockFromRows / hstack / selectRows / groupIndices on FeatureMatrix
 *
 * Any Dataset (lib/data):
 *   const parts = splitDataset(ds, { seed: 0, valFraction: 0.1 });   // the source's train/test, else stratified (+grouped) 80/20
 *   const folds = datasetKFold(ds, { k: 5, seed: 0 });                // stratified by class, groups kept together
 *   const enc = fitMetadataEncoder(ds.metadata, trainItems, { unknown: "zeros" });   // numeric → scaler, categorical → one-hot
 *   const X = transformMetadata(enc, testItems);
 *
 * Choosing among candidates without grading the choice on its own folds, and a Gaussian mixture:
 *   const nested = await nestedCrossValidation(candidates, outerFolds, innerFoldsOf, score);   // .estimate vs .selectionScore
 *   const honest = crossFoldSelection(await scoreCandidates(candidates, folds, score));
 *   const gmm = fitGaussianMixture(points, { k: 7, seed: 0 });  predictGaussianMixture(gmm, points);
 */
export * from "./matrix";
export * from "./encoders";
export * from "./scaler";
export * from "./kmeans";
export * from "./pca";
export * from "./splits";
export * from "./dataset-splits";
export * from "./metadata-encoder";
export * from "./selection";
export * from "./gmm";
