/**
 * lib/evaluation — the final evaluation of notebook 07: choose the best tracked run on validation/CV scores (never
 * test), read its training recipe, rebuild and retrain it with the tracked seed, and expose its test inputs in the
 * shapes lib/eval wants (grouped feature matrix, Grad-CAM head).
 *
 *   const chosen = chooseBestRun(["05_fusion_models", "06_tuning"]);        // throws clearly when nothing is tracked
 *   const recipe = recipeFromRun(chosen.run);
 *   const prepared = await prepareEvaluation(data, recipe, { backbone });
 *   const trained = await retrainRecipe(prepared, recipe);                   // valF1Macro ≈ chosen.run.metrics.final_val_f1_macro
 *   const proba = predictSplit(trained.model, trained.spec, prepared.fold, prepared.test);
 */
export * from "./select";
export * from "./model";
