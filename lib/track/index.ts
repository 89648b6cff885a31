/**
 * lib/track — experiment tracking in MLflow's file-store format under outputs/mlruns (no TensorFlow.js):
 *   const run = startRun({ experiment: "fusion", runName: "late-a2" });
 *   run.logParams({ lr: 1e-3 }); run.logMetric("val_loss", 0.7, 1); run.logArtifact("fig.svg", "val");
 *   run.endRun();                                   // or withRun(options, async (run) => …)
 *   searchRuns({ experiment: "fusion", orderBy: "metrics.val_f1_macro DESC" })  → RunSummary[]
 *   runsTable(rows) → flat rows for a table; getMetricHistory(runId, "val_loss") → learning curve
 * Browse with `mlflow ui --backend-store-uri outputs/mlruns` where MLflow is installed.
 */
export * from "./format";
export * from "./store";
export * from "./run";
export * from "./query";
