import { test } from "node:test";
import assert from "node:assert/strict";
import {
  argmax,
  classErrors,
  confusionMatrices,
  confusionMatrixFigure,
  confusionMatrixHtml,
  evaluationReport,
  mistakeGridItems,
  mostConfidentMistakes,
  mostConfusedPairs,
  normalizeConfusionMatrix,
  ordinalErrors,
  predictedClasses,
  reportHtml,
  reportRows,
} from "../../lib/eval";

const CLASSES = ["low", "medium", "high"];
// The same 12 samples as test/eval/curves.test.ts; argmax predictions checked against numpy.
const Y = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 0, 1];
const PROBA = [
  [0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.3, 0.5, 0.2], [0.2, 0.6, 0.2], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2],
  [0.1, 0.2, 0.7], [0.2, 0.4, 0.4], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2], [0.2, 0.5, 0.3],
];
const PRED = [0, 0, 1, 1, 0, 2, 0, 2, 1, 2, 0, 1];

test("argmax takes the first maximum (numpy), predictions as sklearn's argmax(1)", () => {
  assert.equal(argmax([0.4, 0.4, 0.2]), 0);
  assert.equal(argmax([0.2, 0.4, 0.4]), 1);
  assert.deepEqual(predictedClasses(PROBA), PRED);
});

test("row- and column-normalised confusion matrices equal sklearn's normalize='true' / 'pred'", () => {
  const { counts, rowNormalized } = confusionMatrices(Y, PRED, CLASSES);
  // Hand count: low 3/4 right (one → medium); medium 2/5 (two → low, one → high); high 2/3 (one → medium).
  assert.deepEqual(counts, [
    [3, 1, 0],
    [2, 2, 1],
    [0, 1, 2],
  ]);
  // sklearn 1.2.1: confusion_matrix(y, pred, normalize="true") and normalize="pred".
  const sklearnTrue = [[0.75, 0.25, 0.0], [0.4, 0.4, 0.2], [0.0, 0.3333333333333333, 0.6666666666666666]];
  const sklearnPred = [[0.6, 0.25, 0.0], [0.4, 0.5, 0.3333333333333333], [0.0, 0.25, 0.6666666666666666]];
  rowNormalized.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - sklearnTrue[i][j]) < 1e-15)));
  normalizeConfusionMatrix(counts, "pred").forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - sklearnPred[i][j]) < 1e-15)));
  assert.deepEqual(normalizeConfusionMatrix(counts, "all")[0], [3 / 12, 1 / 12, 0]);
  // A class with no samples gives a zero row (sklearn's nan_to_num), not NaN.
  assert.deepEqual(normalizeConfusionMatrix([[2, 0], [0, 0]], "true"), [[1, 0], [0, 0]]);
});

test("report rows and HTML hold the hand-computed precision, recall, F1, accuracy and averages", () => {
  const report = evaluationReport(Y, PRED, CLASSES);
  const rows = reportRows(report);
  assert.deepEqual(rows.map((r) => r.class), ["low", "medium", "high", "accuracy", "macro avg", "weighted avg"]);
  // low: P = 3/5, R = 3/4, F1 = 2/3; medium: P = 2/4, R = 2/5, F1 = 4/9; high: P = 2/3, R = 2/3, F1 = 2/3.
  const expected = [
    [3 / 5, 3 / 4, 2 / 3, 4],
    [1 / 2, 2 / 5, 4 / 9, 5],
    [2 / 3, 2 / 3, 2 / 3, 3],
  ];
  expected.forEach(([p, r, f, s], i) => {
    assert.ok(Math.abs((rows[i].precision as number) - p) < 1e-12);
    assert.ok(Math.abs((rows[i].recall as number) - r) < 1e-12);
    assert.ok(Math.abs(rows[i]["f1-score"] - f) < 1e-12);
    assert.equal(rows[i].support, s);
  });
  assert.equal(rows[3].precision, null);
  assert.ok(Math.abs(rows[3]["f1-score"] - 7 / 12) < 1e-12);
  assert.ok(Math.abs(rows[4]["f1-score"] - (2 / 3 + 4 / 9 + 2 / 3) / 3) < 1e-12);
  assert.ok(Math.abs(rows[5]["f1-score"] - ((2 / 3) * 4 + (4 / 9) * 5 + (2 / 3) * 3) / 12) < 1e-12);
  const html = reportHtml(report, { digits: 3 });
  assert.match(html, /^<figure class="poi-captioned"[^>]*><figcaption[^>]*>Classification report<\/figcaption><table/);
  const left = (text: string) => `<td style="text-align:left">${text}</td>`;
  const right = (text: string) => `<td style="text-align:right">${text}</td>`;
  assert.ok(html.includes(left("low") + right("0.600") + right("0.750") + right("0.667") + right("4")), html);
  assert.ok(html.includes(left("accuracy") + "<td></td><td></td>" + right("0.583") + right("12")), html);
  assert.ok(html.includes(left("weighted avg")));
});

test("confusion matrix figure and HTML: row share as colour, counts and percentages as text", () => {
  const { counts } = confusionMatrices(Y, PRED, CLASSES);
  const figure = confusionMatrixFigure(counts, CLASSES);
  const trace = figure.data[0] as { type: string; z: number[][]; x: string[]; zmin: number; zmax: number };
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.x, CLASSES);
  assert.equal(trace.z[1][0], 0.4);
  assert.equal(trace.zmax, 1);
  const annotations = figure.layout.annotations as { x: string; y: string; text: string }[];
  assert.equal(annotations.length, 9);
  assert.deepEqual(annotations.find((a) => a.y === "medium" && a.x === "low"), { x: "low", y: "medium", text: "2<br>40%", showarrow: false, font: { size: 13, color: "#222" } });
  const normalized = confusionMatrixFigure(counts, CLASSES, { normalized: true });
  assert.equal((normalized.layout.annotations as { text: string }[])[0].text, "0.75");
  const html = confusionMatrixHtml(counts, CLASSES);
  assert.match(html, /<th[^>]*>medium<\/th><td[^>]*>2 \(40\.0%\)<\/td><td[^>]*>2 \(40\.0%\)<\/td><td[^>]*>1 \(20\.0%\)<\/td><td[^>]*>5<\/td>/);
});

test("per-class false negatives / false positives name where they went and came from", () => {
  const rows = classErrors(Y, PRED, CLASSES);
  assert.deepEqual(rows[1], {
    class: "medium",
    support: 5,
    correct: 2,
    recall: 0.4,
    falseNegatives: 3,
    wentTo: "low: 2, high: 1",
    falsePositives: 2,
    cameFrom: "low: 1, high: 1",
    precision: 0.5,
  });
  assert.equal(rows[0].wentTo, "medium: 1");
  assert.equal(rows[2].cameFrom, "medium: 1");
});

test("most confused pairs and adjacent vs distant errors", () => {
  const pairs = mostConfusedPairs(Y, PRED, CLASSES);
  assert.deepEqual(pairs.map((p) => [p.trueClass, p.predictedClass, p.count, p.distance]), [
    ["medium", "low", 2, 1],
    ["low", "medium", 1, 1],
    ["medium", "high", 1, 1],
    ["high", "medium", 1, 1],
  ]);
  assert.equal(pairs[0].shareOfTrueClass, 0.4);
  assert.equal(pairs[0].shareOfErrors, 0.4);
  assert.equal(mostConfusedPairs(Y, PRED, CLASSES, { top: 1 }).length, 1);
  // A low → high error is distant (±2) and sorts before an adjacent pair with the same count.
  const yTrue = [0, 0, 1, 2, 2, 1];
  const yPred = [2, 1, 1, 0, 2, 1];
  const summary = ordinalErrors(yTrue, yPred, 3);
  assert.deepEqual(summary.rows.map((r) => [r.kind, r.count]), [["correct", 3], ["adjacent (±1)", 1], ["distant (±2)", 2]]);
  assert.equal(summary.meanAbsoluteClassError, (2 + 1 + 2) / 6);
  assert.equal(summary.distantShareOfErrors, 2 / 3);
  assert.equal(summary.rows[2].shareOfSamples, 2 / 6);
  assert.equal(mostConfusedPairs(yTrue, yPred, CLASSES)[0].distance, 2);
  assert.throws(() => ordinalErrors([0, 3], [0, 0], 3), /sample 1/);
});

test("most confident mistakes and their grid items (caption, metadata, red border)", () => {
  const mistakes = mostConfidentMistakes(Y, PROBA);
  // Wrong rows: 2 (0.5), 4 (0.4), 5 (0.6), 6 (0.5), 8 (0.4) → by confidence, ties by index.
  assert.deepEqual(mistakes.map((m) => m.index), [5, 2, 6, 4, 8]);
  assert.deepEqual(mistakes[0], { index: 5, trueClass: 1, predictedClass: 2, confidence: 0.6, trueClassProbability: 0.3, distance: 1 });
  assert.deepEqual(mostConfidentMistakes(Y, PROBA, { top: 2, trueClass: 1 }).map((m) => m.index), [5, 6]);
  const items = mistakeGridItems(mistakes.slice(0, 2), {
    classNames: CLASSES,
    image: (i) => `/data/${i}/main.jpg`,
    metadata: (i) => ({ id: `poi-${i}`, tier: 2, xps: 1234.5, missing: undefined }),
  });
  assert.deepEqual(items[0], {
    source: "/data/5/main.jpg",
    caption: "true medium → pred high · conf 0.60 (p true 0.30) · id: poi-5 · tier: 2 · xps: 1234.500",
    border: "#d62728",
  });
});
