import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracyCeiling, duplicateIdRows, targetStructure, type PoiRecord } from "../../lib/poi";
import { createRng } from "../../lib/util/random";
import { poi } from "./record-fixtures";

/** Counts from two tight clusters in log space, plus a copy of the second with every count × 2.5. */
function records(): { rs: PoiRecord[]; classes: number[] } {
  const rng = createRng(5);
  const rs: PoiRecord[] = [];
  const classes: number[] = [];
  const centres: [number, number, number, number][] = [
    [2.5, 3.5, 2.0, 0], // log10 Likes, Dislikes, Bookmarks; class
    [3.4, 3.0, 2.7, 1],
    [3.4 + Math.log10(2.5), 3.0 + Math.log10(2.5), 2.7 + Math.log10(2.5), 2],
  ];
  centres.forEach(([l, d, b, c]) => {
    for (let i = 0; i < 80; i++) {
      const n = () => rng.normal() * 0.03;
      rs.push(poi(rs.length + 1, { Likes: Math.round(10 ** (l + n())), Dislikes: Math.round(10 ** (d + n())), Bookmarks: Math.round(10 ** (b + n())) }));
      classes.push(c);
    }
  });
  return { rs, classes };
}

test("targetStructure finds the clusters, their class mix and the ×2.5 copy", () => {
  const { rs, classes } = records();
  const s = targetStructure(rs, classes, { k: 3, seed: 0 });
  assert.deepEqual(s.clusters.map((c) => c.rows), [80, 80, 80]);
  assert.deepEqual(s.clusters.map((c) => c.classCounts), [[80, 0, 0], [0, 80, 0], [0, 0, 80]]);
  assert.equal(s.scaledCopies.length, 1);
  const copy = s.scaledCopies[0];
  assert.deepEqual([copy.base, copy.copy], [1, 2]);
  assert.ok(Math.abs(copy.factor - 2.5) < 0.05, `factor ${copy.factor}`);
  assert.deepEqual(s.bic.map((b) => b.k), [2, 3, 4]);
  assert.ok(s.bic[1].bic < s.bic[0].bic);
});

test("duplicate ids cap accuracy at their majority classes; the ceiling keeps the model's accuracy elsewhere", () => {
  // Rows 0–3 share an id (classes 0,0,1,2: majority 2 of 4), rows 4–5 share another (1,1), rows 6–9 are unique.
  const rs = Array.from({ length: 10 }, (_, i) => poi(i + 1, { id: i < 4 ? "a" : i < 6 ? "b" : `u${i}` }));
  const truth = [0, 0, 1, 2, 1, 1, 0, 1, 2, 0];
  const dup = duplicateIdRows(rs, truth);
  assert.deepEqual(dup.rows, [0, 1, 2, 3, 4, 5]);
  assert.equal(dup.ids, 2);
  assert.equal(dup.majorityRight, 4);
  assert.equal(dup.idsWithMixedClasses, 1);
  // Out-of-fold predictions in a shuffled row order: right on rows 0, 4, 6, 7, 8; wrong on 9.
  const rows = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
  const predicted: Record<number, number> = { 0: 0, 1: 1, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0, 7: 1, 8: 2, 9: 2 };
  const c = accuracyCeiling(rs, { rows, truth: rows.map((r) => truth[r]), predictions: rows.map((r) => predicted[r]) });
  assert.equal(c.duplicateRows, 6);
  assert.equal(c.modelOnDuplicates, 2 / 6);
  assert.equal(c.modelOnOthers, 3 / 4);
  assert.equal(c.duplicateMajority, 4 / 6);
  assert.equal(c.ceiling, (3 + 4) / 10);
  assert.throws(() => accuracyCeiling(rs, { rows: [0], truth: [0], predictions: [0] }), /one out-of-fold prediction per row/);
});
