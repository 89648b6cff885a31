import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EngagementInputError,
  assignBins,
  classCounts,
  engagementClasses,
  engagementScores,
  fitEngagementTarget,
  fitQuantileBins,
  fixedBins,
  metricM1,
  metricM2,
  metricM3,
  quantile,
} from "../../lib/poi";

const counts = (Visits: number, Likes: number, Dislikes: number, Bookmarks: number, row = 1) => ({ row, Visits, Likes, Dislikes, Bookmarks });

test("M1 is interactions per 100 visits", () => {
  // (422 + 3582 + 78) / 10009 × 100
  assert.ok(Math.abs(metricM1(counts(10009, 422, 3582, 78)) - 40.78329503) < 1e-6);
  assert.equal(metricM1(counts(200, 10, 5, 5)), 10);
});

test("M2 follows the report's formula with ε = 1e-8", () => {
  // 10/100 + 30/100 − 20/40
  assert.ok(Math.abs(metricM2(counts(100, 10, 20, 30)) - (0.1 + 0.3 - 0.5)) < 1e-9);
  // Likes = Bookmarks = 0: the ε keeps the dislike term finite (and huge)
  assert.ok(Number.isFinite(metricM2(counts(100, 0, 1, 0))));
});

test("M3 is a weighted sum with dislikes subtracted; weights configurable", () => {
  // 0.0001·10000 + 0.005·100 + 0.01·50 − 0.01·20 = 1 + 0.5 + 0.5 − 0.2
  assert.ok(Math.abs(metricM3(counts(10000, 100, 20, 50)) - 1.8) < 1e-12);
  assert.equal(metricM3(counts(10, 1, 1, 1), { visits: 1, likes: 0, bookmarks: 0, dislikes: 0 }), 10);
});

test("bad counts raise an error naming the row and field", () => {
  assert.throws(() => engagementScores([counts(100, 1, 1, 1, 1), counts(0, 1, 1, 1, 7)], "M2"), (e: unknown) => {
    assert.ok(e instanceof EngagementInputError);
    assert.match(e.message, /row 7: Visits=0/);
    return true;
  });
  assert.throws(() => engagementScores([counts(100, -1, 1, 1, 3)], "M1"), /row 3: Likes=-1 is negative/);
  assert.throws(
    () => engagementScores([{ row: 4, Visits: 100, Likes: 1, Dislikes: NaN, Bookmarks: 1 }], "M3"),
    /row 4: Dislikes=NaN is not a finite number/,
  );
  assert.throws(() => engagementScores([{ row: 5, Visits: 100, Likes: 1, Bookmarks: 1 } as never], "M3"), /row 5: Dislikes=undefined is missing/);
});

test("quantile interpolates linearly like numpy", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile([1, 2, 3, 4], 1 / 3) - 2) < 1e-12);
  assert.equal(quantile([5], 0.7), 5);
});

test("tertile thresholds are fitted on the given scores and bins are right-closed", () => {
  const bins = fitQuantileBins([1, 2, 3, 4, 5, 6, 7]);
  // numpy: quantile([1..7], 1/3) = 3, 2/3 = 5
  assert.deepEqual(bins.labels, ["low", "medium", "high"]);
  assert.ok(Math.abs(bins.thresholds[0] - 3) < 1e-12 && Math.abs(bins.thresholds[1] - 5) < 1e-12);
  assert.deepEqual(assignBins(bins, [1, 3, 3.0001, 5, 6, 100, -100]), [0, 0, 1, 1, 2, 2, 0]);
  assert.deepEqual(classCounts(bins, assignBins(bins, [1, 2, 3, 4, 5, 6, 7])), { low: 3, medium: 2, high: 2 });
  assert.throws(() => fitQuantileBins([1, 1, 1, 1, 1, 1]), /not strictly increasing/);
});

test("fixed thresholds and n classes", () => {
  const bins = fixedBins([0, 10], ["a", "b", "c"]);
  assert.deepEqual(assignBins(bins, [-1, 0, 5, 10, 11]), [0, 0, 1, 1, 2]);
  assert.throws(() => fixedBins([10, 0]), /must increase/);
  const five = fitQuantileBins([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5);
  assert.equal(five.thresholds.length, 4);
  assert.deepEqual(five.labels, ["q1", "q2", "q3", "q4", "q5"]);
});

test("the engagement target is fitted on train only and round-trips through JSON", () => {
  const train = [1, 2, 3, 4, 5, 6].map((l, i) => counts(100, l * 10, 0, 0, i + 1));
  const other = [counts(100, 1000, 0, 0, 50)];
  const target = fitEngagementTarget(train, { metric: "M1" });
  // train M1 scores 10…60: tertiles at 26.67 and 43.33 whatever the other rows hold
  assert.ok(Math.abs(target.bins.thresholds[0] - 80 / 3) < 1e-9);
  const restored = JSON.parse(JSON.stringify(target));
  assert.deepEqual(engagementClasses(restored, other), [2]);
  assert.deepEqual(engagementClasses(restored, train), engagementClasses(target, train));
  const fixed = fitEngagementTarget(train, { metric: "M1", thresholds: [15] });
  assert.deepEqual(engagementClasses(fixed, train), [0, 1, 1, 1, 1, 1]);
});
