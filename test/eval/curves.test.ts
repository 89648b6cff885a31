import { test } from "node:test";
import assert from "node:assert/strict";
import {
  averagePrecision,
  calibration,
  expectedCalibrationError,
  oneVsRest,
  oneVsRestRows,
  precisionRecallCurve,
  precisionRecallFigure,
  reliabilityDiagram,
  rocAuc,
  rocCurve,
  rocFigure,
  trapezoidArea,
} from "../../lib/eval";

const CLASSES = ["low", "medium", "high"];
const Y = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 0, 1];
const PROBA = [
  [0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.3, 0.5, 0.2], [0.2, 0.6, 0.2], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2],
  [0.1, 0.2, 0.7], [0.2, 0.4, 0.4], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2], [0.2, 0.5, 0.3],
];

const close = (actual: readonly number[], expected: readonly number[], what: string) => {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${what}[${i}]: ${v} vs ${expected[i]}`));
};

// Expected values printed by scikit-learn 1.2.1 (Debian python3-sklearn): roc_curve, precision_recall_curve,
// roc_auc_score, average_precision_score on label_binarize(Y) columns; ties in scores on purpose.
const SKLEARN = [
  {
    fpr: [0.0, 0.0, 0.0, 0.125, 0.375, 0.75, 1.0],
    tpr: [0.0, 0.25, 0.5, 0.5, 1.0, 1.0, 1.0],
    thresholds: [0.7, 0.6, 0.5, 0.3, 0.2, 0.1],
    precision: [0.3333333333333333, 0.4, 0.5714285714285714, 0.6, 0.6666666666666666, 1.0, 1.0, 1.0],
    recall: [1.0, 1.0, 1.0, 0.75, 0.5, 0.5, 0.25, 0.0],
    prThresholds: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    auc: 0.875,
    ap: 0.7928571428571428,
  },
  {
    fpr: [0.0, 0.0, 0.14285714285714285, 0.42857142857142855, 0.5714285714285714, 1.0],
    tpr: [0.0, 0.2, 0.4, 0.6, 1.0, 1.0],
    thresholds: [0.6, 0.5, 0.4, 0.3, 0.2],
    precision: [0.4166666666666667, 0.5555555555555556, 0.5, 0.6666666666666666, 1.0, 1.0],
    recall: [1.0, 1.0, 0.6, 0.4, 0.2, 0.0],
    prThresholds: [0.2, 0.3, 0.4, 0.5, 0.6],
    auc: 0.7285714285714286,
    ap: 0.6555555555555554,
  },
  {
    fpr: [0.0, 0.0, 0.1111111111111111, 0.1111111111111111, 0.2222222222222222, 0.8888888888888888, 1.0],
    tpr: [0.0, 0.3333333333333333, 0.3333333333333333, 1.0, 1.0, 1.0, 1.0],
    thresholds: [0.7, 0.6, 0.4, 0.3, 0.2, 0.1],
    precision: [0.25, 0.2727272727272727, 0.6, 0.75, 0.5, 1.0, 1.0],
    recall: [1.0, 1.0, 1.0, 1.0, 0.3333333333333333, 0.3333333333333333, 0.0],
    prThresholds: [0.1, 0.2, 0.3, 0.4, 0.6, 0.7],
    auc: 0.9259259259259259,
    ap: 0.8333333333333333,
  },
];

test("per-class ROC and PR curves, ROC AUC and average precision equal scikit-learn's", () => {
  SKLEARN.forEach((expected, c) => {
    const positives = Y.map((y) => (y === c ? 1 : 0));
    const scores = PROBA.map((row) => row[c]);
    const roc = rocCurve(positives, scores);
    close(roc.fpr, expected.fpr, `fpr ${c}`);
    close(roc.tpr, expected.tpr, `tpr ${c}`);
    assert.equal(roc.thresholds[0], Infinity);
    close(roc.thresholds.slice(1), expected.thresholds, `thresholds ${c}`);
    const pr = precisionRecallCurve(positives, scores);
    close(pr.precision, expected.precision, `precision ${c}`);
    close(pr.recall, expected.recall, `recall ${c}`);
    close(pr.thresholds, expected.prThresholds, `pr thresholds ${c}`);
    assert.ok(Math.abs(rocAuc(positives, scores) - expected.auc) < 1e-12);
    assert.ok(Math.abs(averagePrecision(positives, scores) - expected.ap) < 1e-12);
  });
});

test("one-vs-rest macro / weighted ROC AUC and AP equal roc_auc_score(multi_class='ovr') and average_precision_score", () => {
  const result = oneVsRest(Y, PROBA, CLASSES);
  assert.ok(Math.abs(result.macroRocAuc - 0.8431657848324515) < 1e-12);
  assert.ok(Math.abs(result.weightedRocAuc - 0.8267195767195767) < 1e-12);
  assert.ok(Math.abs(result.macroAveragePrecision - 0.7605820105820106) < 1e-12);
  assert.ok(Math.abs(result.weightedAveragePrecision - 0.7457671957671957) < 1e-12);
  const rows = oneVsRestRows(result);
  assert.deepEqual(rows.map((r) => [r.class, r.support]), [["low", 4], ["medium", 5], ["high", 3], ["macro avg", 12], ["weighted avg", 12]]);
  const roc = rocFigure(result);
  assert.equal(roc.data.length, 4);
  assert.equal((roc.data[0] as { name: string }).name, "low (AUC 0.875)");
  const pr = precisionRecallFigure(result);
  assert.equal((pr.data[0] as { name: string }).name, "low (AP 0.793)");
  assert.equal((pr.data[1] as { y: number[] }).y[0], 4 / 12);
});

test("ROC with many ties and drop_intermediate exactly as sklearn", () => {
  const y = [0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0];
  const s = [1.0, 0.8, 0.5, 0.8, 0.1, 0.6, 0.1, 0.9, 0.5, 0.4, 0.3, 0.8, 0.5, 0.6, 0.0, 0.6, 0.6, 0.6, 0.9, 0.7, 0.4, 0.4, 0.7, 0.1, 0.7, 0.7, 0.2, 0.1, 0.3, 0.4, 0.6, 0.4, 1.0, 0.1, 0.2, 0.2, 0.7, 0.3, 0.5, 0.2];
  const roc = rocCurve(y, s);
  close(roc.fpr, [0.0, 0.058823529411764705, 0.11764705882352941, 0.23529411764705882, 0.35294117647058826, 0.5294117647058824, 0.5882352941176471, 0.7647058823529411, 0.7647058823529411, 0.8235294117647058, 0.9411764705882353, 1.0], "fpr");
  close(roc.tpr, [0.0, 0.043478260869565216, 0.08695652173913043, 0.13043478260869565, 0.2608695652173913, 0.391304347826087, 0.5217391304347826, 0.6086956521739131, 0.7391304347826086, 0.8695652173913043, 1.0, 1.0], "tpr");
  assert.ok(Math.abs(rocAuc(y, s) - 0.4411764705882353) < 1e-12);
  assert.ok(Math.abs(averagePrecision(y, s) - 0.5363438588502527) < 1e-12);
  const full = rocCurve(y, s, { dropIntermediate: false });
  assert.ok(Math.abs(trapezoidArea(full.fpr, full.tpr) - 0.4411764705882353) < 1e-12);
  // Collinear points go, the corners stay (sklearn: fpr [0, 0, 0, 1], tpr [0, 1/3, 1, 1]); the area is unchanged.
  const yLine = [1, 1, 1, 0, 0, 0];
  const sLine = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
  const dropped = rocCurve(yLine, sLine);
  close(dropped.fpr, [0, 0, 0, 1], "fpr dropped");
  close(dropped.tpr, [0, 1 / 3, 1, 1], "tpr dropped");
  close(dropped.thresholds.slice(1), [0.9, 0.7, 0.4], "thresholds dropped");
  const kept = rocCurve(yLine, sLine, { dropIntermediate: false });
  close(kept.fpr, [0, 0, 0, 0, 1 / 3, 2 / 3, 1], "fpr kept");
  assert.equal(trapezoidArea(kept.fpr, kept.tpr), trapezoidArea(dropped.fpr, dropped.tpr));
});

test("perfect and single-class cases", () => {
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(averagePrecision([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(rocAuc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
  assert.ok(Number.isNaN(averagePrecision([0, 0], [0.2, 0.3])));
  // A class without samples is NaN and left out of the macro average.
  const result = oneVsRest([0, 1, 0, 1], [[0.9, 0.1, 0], [0.2, 0.8, 0], [0.6, 0.3, 0.1], [0.4, 0.5, 0.1]], CLASSES);
  assert.ok(Number.isNaN(result.classes[2].rocAuc));
  assert.equal(result.macroRocAuc, 1);
});

test("expected calibration error: hand-computed with 10 bins, bin edges (lo, hi]", () => {
  // confidences 0.95 ✓, 0.95 ✗, 0.55 ✓, 0.6 ✗ (exactly on an edge: bin (0.5, 0.6]), 0.45 ✓
  const proba = [
    [0.95, 0.05, 0],
    [0.95, 0.05, 0],
    [0.2, 0.55, 0.25],
    [0.6, 0.3, 0.1],
    [0.45, 0.35, 0.2],
  ];
  const y = [0, 1, 1, 1, 0];
  const result = calibration(y, proba);
  // bin (0.9, 1]: 2 samples, accuracy 0.5, confidence 0.95 → 0.45·2/5 = 0.18
  // bin (0.5, 0.6]: 2 samples, accuracy 0.5, confidence 0.575 → 0.075·2/5 = 0.03
  // bin (0.4, 0.5]: 1 sample, accuracy 1, confidence 0.45 → 0.55·1/5 = 0.11
  assert.ok(Math.abs(result.ece - 0.32) < 1e-12, `ece ${result.ece}`);
  assert.ok(Math.abs(result.mce - 0.55) < 1e-12);
  assert.deepEqual(result.bins.map((b) => b.count), [0, 0, 0, 0, 1, 2, 0, 0, 0, 2]);
  assert.ok(Math.abs(result.bins[5].confidence - 0.575) < 1e-12);
  assert.ok(Number.isNaN(result.bins[0].accuracy));
  assert.equal(result.accuracy, 3 / 5);
  assert.ok(Math.abs(result.meanConfidence - (0.95 + 0.95 + 0.55 + 0.6 + 0.45) / 5) < 1e-12);
  assert.equal(expectedCalibrationError(y, proba, 10), result.ece);
  // One bin: |accuracy − mean confidence|.
  assert.ok(Math.abs(expectedCalibrationError(y, proba, 1) - Math.abs(0.6 - 0.7)) < 1e-12);
  const figure = reliabilityDiagram(result);
  const bars = figure.data[0] as { y: (number | null)[]; x: number[] };
  assert.equal(bars.y[0], null);
  assert.equal(bars.y[9], 0.5);
  assert.ok(Math.abs(bars.x[9] - 0.95) < 1e-12);
  assert.match(String((figure.layout.title as { text: string }).text), /ECE 0\.320/);
  assert.throws(() => calibration([0], [[1.5, 0]]), /row 0/);
});
