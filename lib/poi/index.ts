/**
 * lib/poi — the POI table as one dataset (no TensorFlow.js): the validated CSV (PoiRecord), its list columns and
 * duplicates, the engagement target (M1 / M2 / M3, classes with thresholds fitted on training rows only), the POI
 * feature recipe and the POI split (grouped by id and image, stratified by engagement).
 *
 *   const { records } = loadPoiDataset();                                     // $POI_DATA_DIR, data/poi, ../shared/data/poi
 *   const split = splitPoiRecords(records, { seed: 42 });                     // grouped (id, image) + stratified: 1133 / 200 / 236
 *   const target = fitEngagementTarget(split.train, { metric: "M2", classes: 3 });   // plain JSON
 *   const y = engagementClasses(target, split.val);                           // 0 low, 1 medium, 2 high
 *   const fitted = fitFeaturePipeline(split.train, { location: { k: 3, seed: 42 } });   // plain JSON
 *   const X = transformFeatures(fitted, split.val);                           // FeatureMatrix { columns, rows, data, groups }
 *
 * Preprocessors (tagsCount, categoriesMultiHot, tierOneHot, xpsLogScaled, locationClusters, coordinatesScaled,
 * numericScaled) each have fit(train) → plain object and pure transform. Target columns are refused (TargetLeakError).
 */
export * from "./record";
export * from "./data-dir";
export * from "./python-list";
export * from "./load";
export * from "./duplicates";
export * from "./column-summary";
export * from "./audit";
export * from "./engagement";
export * from "./engagement-classes";
export * from "./encoders";
export * from "./feature-pipeline";
export * from "./splits";
export * from "./dataset";
export * from "./ceiling";
