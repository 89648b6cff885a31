import { test } from "node:test";
import assert from "node:assert/strict";
import type { CocoDetection, CocoInstances } from "../../../lib/data/coco";
import { detectionConfusionMatrix, evaluateCoco, imageErrors, precisionRecallAtScore, prCurves } from "../../../lib/eval/coco";

const gt: CocoInstances = {
  images: [
    { id: 1, file_name: "1.png", width: 100, height: 100 },
    { id: 2, file_name: "2.png", width: 100, height: 100 },
    { id: 3, file_name: "3.png", width: 100, height: 100 },
  ],
  categories: [
    { id: 1, name: "hole" },
    { id: 2, name: "crack" },
    { id: 3, name: "NORMAL" },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 20, 20], area: 400, iscrowd: 0 },
    { id: 2, image_id: 1, category_id: 2, bbox: [60, 60, 30, 30], area: 900, iscrowd: 0 },
    { id: 3, image_id: 2, category_id: 2, bbox: [5, 5, 40, 40], area: 1600, iscrowd: 0 },
  ],
};
const dets: CocoDetection[] = [
  { image_id: 1, category_id: 1, bbox: [10, 10, 20, 20], score: 0.9 }, // correct hole
  { image_id: 1, category_id: 1, bbox: [60, 60, 30, 30], score: 0.8 }, // a crack called hole
  { image_id: 2, category_id: 2, bbox: [50, 50, 10, 10], score: 0.7 }, // spurious crack; the real crack is missed
  { image_id: 3, category_id: 1, bbox: [1, 1, 10, 10], score: 0.6 }, // spurious on the NORMAL image
  { image_id: 3, category_id: 2, bbox: [1, 1, 10, 10], score: 0.1 }, // below the threshold
];

test("detection confusion matrix: matched pairs on the diagonal or off it, background row = false positives, column = misses", () => {
  const c = detectionConfusionMatrix(gt, dets, { scoreThreshold: 0.5 });
  assert.deepEqual(c.labels, ["hole", "crack", "NORMAL", "background"]);
  assert.deepEqual(c.counts, [
    [1, 0, 0, 0],
    [1, 0, 0, 1],
    [0, 0, 0, 0],
    [1, 1, 0, 0],
  ]);
  const errors = imageErrors(gt, dets, { scoreThreshold: 0.5 });
  assert.deepEqual(errors.map((e) => [e.imageId, e.errors]), [[1, 1], [2, 2], [3, 1]].sort((a, b) => b[1] - a[1] || a[0] - b[0]));
});

test("precision / recall at a score threshold use COCOeval's per-class matches; PR curves are -1 without ground truth", () => {
  const result = evaluateCoco(gt, dets);
  const rows = precisionRecallAtScore(gt, result, { scoreThreshold: 0.5 });
  const hole = rows.find((r) => r.category === "hole")!;
  assert.deepEqual([hole.truePositives, hole.falsePositives, hole.groundTruth], [1, 2, 1]);
  assert.equal(hole.precision, 1 / 3);
  assert.equal(hole.recall, 1);
  const crack = rows.find((r) => r.category === "crack")!;
  assert.deepEqual([crack.truePositives, crack.falsePositives, crack.groundTruth], [0, 1, 2]);
  const normal = rows.find((r) => r.category === "NORMAL")!;
  assert.ok(Number.isNaN(normal.recall));
  assert.equal(normal.ap, -1);
  const curves = prCurves(gt, result);
  assert.ok(curves.find((c) => c.category === "NORMAL")!.precision.every((p) => p === -1));
  assert.ok(Math.abs(curves.find((c) => c.category === "hole")!.precision[0] - 1) < 1e-12, "precision 1 − eps at the first recall points (tp / (tp + fp + eps))");
});
