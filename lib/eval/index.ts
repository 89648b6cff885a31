/**
 * lib/eval — evaluation and error analysis on plain arrays (labels, probability rows), so it works with any model.
 *
 *   const report = evaluationReport(yTrue, yPred, CLASS_NAMES);        // sklearn's classification_report (lib/train)
 *   showHtml(reportHtml(report)); show(confusionMatrixFigure(confusionMatrices(yTrue, yPred, CLASS_NAMES).counts, CLASS_NAMES));
 *   showTable(classErrors(yTrue, yPred, CLASS_NAMES)); showTable(mostConfusedPairs(...)); ordinalErrors(yTrue, yPred, 3);
 *   showImageGrid(mistakeGridItems(mostConfidentMistakes(yTrue, proba, { top: 12 }), { classNames, image: (i) => files[i] }));
 *   show(rocFigure(oneVsRest(yTrue, proba, CLASS_NAMES))); show(reliabilityDiagram(calibration(yTrue, proba)));
 *   const imp = await permutationImportance((X) => predict(X), Xtest, yTest, { repeats: 5, seed: 42 });   // macro-F1 drop
 *   show(attributionFigure(await shapleySampling(predict, Xtest, row, { background: Xtrain })));
 *   gradCamImages(backbone.model, photos, { preprocess: backbone.preprocess })  // or { backbone, head } for fusion
 *   show(comparisonFigure(compareRuns(bestRuns(["04_…", "05_…", "06_…"]))));
 */
export * from "./report";
export * from "./errors";
export * from "./curves";
export * from "./calibration";
export * from "./importance";
export * from "./predict";
export * from "./gradcam";
export * from "./compare";
