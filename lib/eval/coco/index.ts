/**
 * lib/eval/coco — object-detection metrics identical to pycocotools' COCOeval (bbox), and what users read around them:
 *   const result = evaluateCoco(gt, detections);          // COCOeval.evaluate + accumulate + summarize
 *   namedStats(result)                                    // { ap, ap50, ap75, ap_small, …, ar_large }
 *   perClassAp(gt, result)                                // { <category>: { ap, ap50 } }, -1 without ground truth
 *   precisionRecallAtScore(gt, result, { scoreThreshold: 0.5 })   // per class P / R / F1 with COCOeval's matches
 *   prCurves(gt, result)                                  // the 101-point interpolated PR curve per class (IoU 0.5)
 *   detectionConfusionMatrix(gt, detections)              // (K+1)² with a background row and column
 */
export * from "./cocoeval";
export * from "./summary";
export * from "./figures";
