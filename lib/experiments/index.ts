/**
 * lib/experiments — the recipes the notebooks and commands run, on top of every folder above.
 *
 * The POI evaluation protocol (notebooks 05–07, `npm run cv`):
 *   const data = await loadExperimentData({ embeddings: true });           // records + image statistics + MobileNetV2 embeddings
 *   const cv = await crossValidate(data, "FusionConcat", { folds: 5, seed: 1 });   // grouped stratified k-fold
 *   const split = await evaluateSingleSplit(data, "NetEngagementPOIFinal", { seed: 42 });   // the report's 72/13/15 split
 * Per fold, on the training rows only: M2 tertile thresholds, metadata encoders and KMeans, statistics and embedding
 * scalers. Visits/Likes/Dislikes/Bookmarks only produce the labels. A mean accuracy above 0.95 sets `warning`.
 *
 * Baselines and the backbone × augmentation grid (notebook 04):
 *   denseHead(1280)                         // the backbone-comparison seed's head: Dense 128 relu → Dropout 0.3 → softmax
 *   backboneClassifier(createBackbone("small-cnn"))  // the same head on a backbone trained from scratch
 *   embeddingVariantSource(clean, variants, seed)     // frozen backbone + augmentation: a cached variant per sample per epoch
 *   imageBatchSource(images, { augmentation, seed })  // pixels, augmented on the fly for training
 *   trackedMajorityBaseline({ start, yTrain, yVal, yTest, classNames })
 *   loadMobileNetV2AtSize(128)              // the ImageNet MobileNetV2 at the photos' native size
 *   runsGrid(runs, { category, series, metric }), bestRun(runs, metric)
 *
 * Tuning objectives for lib/tune studies (notebook 06):
 *   const data = await loadTuningData({ seed: 42, presets: ["A1", "A2", "A3", "A4"] });   // cached embeddings
 *   await study.optimize(async (trial) => (await runFusionTrial(data, { ...BASE_TRIAL_CONFIG, dropout: trial.suggestCategorical("dropout_rate", [0.1, 0.3, 0.5]) }, { trial })).valF1, { nTrials: 20 });
 * A trial trains on the report's training split and returns the validation macro-F1 after the last epoch; each epoch's
 * validation macro-F1 goes to trial.report(), so a pruner can stop it (the run is then marked KILLED).
 *
 * Any classification dataset (classification.ts; `npm run train`, the any-dataset notebooks):
 *   const ds = await loadDataset("data/flowers");        // image folder | table.csv (+ imageColumn, target, metadata, group) | IDX folder | "fashion-mnist" | "poi:main-category" | "poi:engagement"
 *   const parts = splitDataset(ds, { seed: 0 });         // lib/features: the source's train/test, else stratified (+grouped) 80/20
 *   const inputs = await prepareInputs(ds, { backbone: "small-cnn" | "mobilenet-v2" | null, augment: "A1" });   // decoded / embedded once
 *   const a2 = await withAugmentation(inputs, "A2", { augmentRows: parts.train });   // another preset, the clean inputs shared
 *   const result = await fitClassifier(inputs, parts, { epochs: 10, classWeights: "balanced", seed: 0 });   // accuracy, macroF1, perClassF1, confusion, report, model
 *   const cv = await crossValidateClassifier(inputs, { folds: 5, seed: 0 });   // grouped stratified k-fold: mean ± std, per fold
 *   summaryRow("subset [0,1,2,5,6]", result);             // the ODIR-style row: train/val/test accuracy, macro F1 / precision / recall
 * Class subsets: loadDataset(path, { classes: [...] }) or selectClasses(ds, [...]) (lib/data); dropped rows are counted.
 * Comparing configurations (classification-study.ts; notebooks 13, 14): trainClassifier / scoreClassifier, then
 *   const results = await runExperiments(specs, parts, { experiment });   // one tracked run each, scored on validation
 *   const chosen = chooseExperiment(results); await testExperiment(chosen, parts.test);   // test once, for the chosen one
 *   experimentSummaryRows(results); subsetExperimentData(inputs, parts, classes); stratifiedSubsample(labels, rows, n, seed)
 *
 * A dataset at a glance (notebook 11): classCountRows(ds), sampleItemsPerClass(ds, 8, seed), seededSample(n, size, seed),
 * classImageRows(auditItemImages(ds, indices), ds.classes), metadataRows(ds).
 *
 * Choosing and rebuilding the best run (notebook 07): on validation/CV scores, never test.
 *   const chosen = chooseBestRun(["05_fusion_models", "06_tuning"]);        // throws clearly when nothing is tracked
 *   const recipe = recipeFromRun(chosen.run);
 *   const prepared = await prepareEvaluation(data, recipe, { backbone });
 *   const trained = await retrainRecipe(prepared, recipe);                   // valF1Macro ≈ chosen.run.metrics.final_val_f1_macro
 *   const proba = await predictSplit(trained.model, trained.spec, prepared.fold, prepared.test);
 */
export * from "./inputs";
export * from "./protocol";
export * from "./embedding-transform";
export * from "./cv";
export * from "./heads";
export * from "./batch-sources";
export * from "./majority-baseline";
export * from "./mobilenet-at-size";
export * from "./run-grid";
export * from "./tuning-objective";
export * from "./best-run";
export * from "./rebuild";
export * from "./classification";
export * from "./classification-study";
export * from "./classification-gradcam";
export * from "./dataset-overview";
