/**
 * lib/baselines — the pieces of notebook 04 that are more than one call:
 *   denseHead(1280)                         // the backbone-comparison seed's head: Dense 128 relu → Dropout 0.3 → softmax
 *   backboneClassifier(createBackbone("small-cnn"))  // the same head on a backbone trained from scratch
 *   embeddingVariantSource(clean, variants, seed)     // frozen backbone + augmentation: a cached variant per sample per epoch
 *   imageBatchSource(images, { augmentation, seed })  // pixels, augmented on the fly for training
 *   trackedMajorityBaseline({ start, yTrain, yVal, yTest, classNames })
 *   loadMobileNetV2AtSize(128)              // the ImageNet MobileNetV2 at the photos' native size
 *   runsGrid(runs, { category, series, metric }), bestRun(runs, metric)
 */
export * from "./heads";
export * from "./sources";
export * from "./majority";
export * from "./mobilenet";
export * from "./results";
