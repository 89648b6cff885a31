/**
 * lib/models — the fusion networks (TensorFlow.js functional models).
 *
 *   listArchitectures();                                          // report's four + new fusion variants + linear baselines
 *   const model = buildModel("NetEngagementPOIFinal", { meta: 24, embedding: 1280 }, { seed: 0 });
 *   modelInputNames(getArchitecture("FusionGated"));              // ["meta", "stats", "embedding"]: the input order
 *   countTrainableParams(model); modelSummary(model);
 *
 * Branches: metadata MLP (Linear → BatchNorm → ReLU → Dropout, He normal, zero bias), image branch over the frozen
 * backbone's cached embedding and/or the image statistics, fusion by concat / gated sum / attention, softmax head.
 *
 * Any dataset, N classes (classifier.ts): buildClassifier({ numClasses, image?: pixels (small CNN) | embedding, meta? }).
 */
export * from "./branches";
export * from "./architectures";
export * from "./classifier";
