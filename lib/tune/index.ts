/**
 * lib/tune: Optuna-style hyper-parameter tuning (define-by-run studies, random/grid/TPE samplers,
 * median pruning, in-memory or SQLite storage, plotly figures). No TensorFlow.js here.
 */
export * from "./types";
export * from "./distributions";
export { createStudy, loadStudy, Study, Trial, type CreateStudyOptions, type Objective, type OptimizeOptions } from "./study";
export { type Sampler, type StudyView, intersectionSearchSpace } from "./samplers/base";
export { RandomSampler } from "./samplers/random";
export { GridSampler } from "./samplers/grid";
export { OPTUNA_31_TPE, TpeSampler, type TpeSamplerOptions } from "./samplers/tpe";
export { ParzenEstimator, defaultGamma, defaultWeights } from "./samplers/parzen";
export { MedianPruner, NopPruner, PercentilePruner, type Pruner, type PercentilePrunerOptions } from "./pruners";
export { InMemoryStorage } from "./storage/memory";
export { SqliteStorage, type SqliteStorageOptions } from "./storage/sqlite";
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
