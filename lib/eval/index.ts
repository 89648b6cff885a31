/**
 * lib/eval — evaluation and error analysis. Most of it works on plain arrays (integer labels, probability rows), so
 * it fits any model; Grad-CAM and modelPredictFn are the TensorFlow.js parts.
 *
 *   const report = evaluationReport(yTrue, yPred, CLASS_NAMES);          // sklearn's classification_report (lib/train)
 *   showHtml(reportHtml(report));
 *   const { counts } = confusionMatrices(yTrue, yPred, CLASS_NAMES);      // + rowNormalized (sklearn normalize="true")
 *   show(confusionMatrixFigure(counts, CLASS_NAMES));
 *   showTable(classErrors(yTrue, yPred, CLASS_NAMES));                  // FN → where they went, FP ← where they came from
 *   showTable(mostConfusedPairs(yTrue, yPred, CLASS_NAMES));  showTable(ordinalErrors(yTrue, yPred, 3).rows);
 *   await showImageGrid(mistakeGridItems(mostConfidentMistakes(yTrue, proba, { top: 12 }),
 *     { classNames: CLASS_NAMES, image: (i) => imagePath(dataDir, test[i]), metadata: (i) => ({ tier: test[i].tier }) }));
 *   const ovr = oneVsRest(yTrue, proba, CLASS_NAMES);  show(rocFigure(ovr)); show(precisionRecallFigure(ovr));
 *   show(reliabilityDiagram(calibration(yTrue, proba, { bins: 10 })));
 *   const predict = modelPredictFn(model, { inputGroups: [["image_embedding"], ["tags", "categories", "tier", "xps", "location"]] });
 *   show(permutationImportanceFigure(await permutationImportance(predict, Xtest, yTest, { repeats: 5, seed: 42 })));  // macro-F1 drop
 *   show(attributionFigure(await shapleySampling(predict, Xtest, row, { background: Xtrain, samples: 64 })));
 *   await showImageGrid(gradCamGridItems(await gradCamImages(backbone.model, photos, { preprocess: backbone.preprocess }), { classNames }));
 *   show(comparisonFigure(compareRuns(bestRuns(["04_metadata", "05_image", "06_fusion"]))));
 */
export * from "./report";
export * from "./errors";
export * from "./curves";
export * from "./calibration";
export * from "./importance";
export * from "./predict";
export * from "./gradcam";
export * from "./compare";
