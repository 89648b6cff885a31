/**
 * lib/train — the training loop and its parts, in plain TensorFlow.js (any backend):
 * - `fit(model, { x, y, validation, epochs, batchSize, optimizer, loss, classWeights, callbacks, seed })`
 *   → `History` of per-epoch `{ epoch, trainLoss, trainAcc, trainF1Macro, valLoss, valAcc, valF1Macro, lr, seconds }`;
 *   `evaluate`, `predictProba`; `withSeed(seed, () => buildModel())` for repeatable initial weights;
 *   small dense networks (the fusion MLPs) and small CNNs train with a fused step instead of TensorFlow.js ops
 *   (fused-steps.ts; the CNNs' convolutions on lib/engine/native's kernels; same arithmetic and dropout masks, 3–10×
 *   less time per step; `fastPath: false` turns it off, `History.step` says which ran);
 * - optimisers `createOptimizer({ name: "adam" | "adamw" | "sgd", lr, weightDecay, momentum })`;
 * - callbacks `earlyStopping`, `reduceLROnPlateau`, `cosineSchedule`, `oneCycleSchedule`,
 *   `modelCheckpoint` (atomic model.json + weights under outputs/checkpoints), `progressLogger`;
 * - `freezeLayers(model, "backbone" | N | { weights: N })`, `unfreezeAll`;
 * - sklearn-exact metrics: `classificationReport`, `confusionMatrix`, `f1Macro`, `computeClassWeights`;
 * - MLflow-format tracking glue: `trackingCallback(run)`, `logEvaluation(run, split, …)`, `trackedFit`.
 */
export * from "./metrics";
export * from "./class-weights";
export * from "./seed";
export * from "./optimizers";
export * from "./losses";
export * from "./freeze";
export * from "./callbacks";
export * from "./checkpoint";
export * from "./fit";
export * from "./tracking";
