/**
 * lib/tune: Optuna-style hyper-parameter tuning (define-by-run studies, random/grid/TPE samplers,
 * median pruning, in-memory storage or Optuna's own RDB schema on SQLite or PostgreSQL, fANOVA importances, plotly
 * figures). No TensorFlow.js here.
 *
 *   const study = createStudy({ name: "fusion", direction: "maximize", storage: outputsDir("tune", "studies.db"),
 *                               loadIfExists: true, sampler: new TpeSampler({ seed: 42 }), pruner: new MedianPruner() });
 *   study.enqueueTrial({ dropout_rate: 0.3, freeze_layers: 100 });
 *   await study.optimize(async (trial) => {
 *     const dropout = trial.suggestFloat("dropout_rate", 0.1, 0.6);
 *     const freeze = trial.suggestInt("freeze_layers", 0, 150, { step: 10 });
 *     let f1 = 0;
 *     for (let epoch = 0; epoch < 10; epoch++) {
 *       f1 = await trainOneEpoch(dropout, freeze);
 *       trial.report(f1, epoch);
 *       if (trial.shouldPrune()) throw new TrialPruned();
 *     }
 *     return f1;
 *   }, { nTrials: 30, timeout: 600 });
 *   study.bestTrial; show(plotOptimizationHistory(study)); show(plotParamImportances(study));
 */
export * from "./types";
export * from "./distributions";
export { createStudy, loadStudy, Study, Trial, type CreateStudyOptions, type Objective, type OptimizeOptions } from "./study";
export { type Sampler, type StudyView, intersectionSearchSpace } from "./samplers/base";
export { RandomSampler } from "./samplers/random";
export { GridSampler } from "./samplers/grid";
export { DEFAULT_MIN_KERNEL_VOLUME, OPTUNA_31_TPE, TpeSampler, type TpeSamplerOptions } from "./samplers/tpe";
export { ParzenEstimator, defaultGamma, defaultWeights } from "./samplers/parzen";
export { MedianPruner, NopPruner, PercentilePruner, type Pruner, type PercentilePrunerOptions } from "./pruners";
export { InMemoryStorage } from "./storage/memory";
export { connect, RdbStorage, type RdbStorageOptions } from "./storage/rdb";
export type { SqlConnection, SqlDialect } from "./storage/sql";
export type { StudyStorage, StudySummary } from "./storage/types";
export { getParamImportances, type ImportanceOptions, type TrialSource } from "./importance";
export {
  plotContour,
  plotIntermediateValues,
  plotOptimizationHistory,
  plotParallelCoordinate,
  plotParamImportances,
  plotSlice,
  type ContourOptions,
  type PlotlyFigure,
  type PlotSource,
  type TargetOptions,
} from "./plots";
