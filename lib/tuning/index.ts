/**
 * lib/tuning — objectives for lib/tune studies over the fusion networks (notebook 06).
 *
 *   const data = await loadTuningData({ seed: 42, presets: ["A1", "A2", "A3", "A4"] });   // cached embeddings
 *   await study.optimize(async (trial) => {
 *     const config = { ...BASE_TRIAL_CONFIG, dropout: trial.suggestCategorical("dropout_rate", [0.1, 0.3, 0.5]) };
 *     return (await runFusionTrial(data, config, { trial: trial, track: { experiment: "06_tuning", runName: `t${trial.number}` } })).valF1;
 *   }, { nTrials: 20 });
 *
 * A trial trains on the report's training split and returns the validation macro-F1 after the last epoch; each
 * epoch's validation macro-F1 goes to trial.report(), so a pruner can stop it (the run is then marked KILLED).
 */
export * from "./fusion";
