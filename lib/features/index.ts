/**
 * lib/features — model inputs from PoiRecords, scikit-learn style (no TensorFlow.js).
 *
 *   const split = splitPoiRecords(records, { seed: 42 });            // grouped (id, image) + stratified: 1133 / 200 / 236
 *   const fitted = fitFeaturePipeline(split.train, { location: { k: 3, seed: 42 } });   // plain JSON
 *   const X = transformFeatures(fitted, split.val);                   // FeatureMatrix { columns, rows, data, groups }
 *   groupIndices(X, "categories");                                    // column indices of one group (permutation importance)
 *
 * Preprocessors (tagsCount, categoriesMultiHot, tierOneHot, xpsLogScaled, locationClusters, coordinatesScaled, numericScaled)
 * each have fit(train) → plain object and pure transform. Target columns are refused (TargetLeakError).
 */
export * from "./matrix";
export * from "./encoders";
export * from "./kmeans";
export * from "./pipeline";
export * from "./splits";
