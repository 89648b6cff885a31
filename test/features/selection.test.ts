import { test } from "node:test";
import assert from "node:assert/strict";
import { crossFoldSelection, nestedCrossValidation, scoreCandidates, stratifiedGroupKFold } from "../../lib/features";
import { createRng, hashString } from "../../lib/util/random";

/** A uniform number fixed by (candidate, row). */
const draw = (c: number, i: number) => createRng(hashString(`${c}:${i}`)).next();

/** 600 rows with balanced random binary labels. */
const N = 600;
const rng = createRng(11);
const labels = Array.from({ length: N }, () => (rng.next() < 0.5 ? 0 : 1));
const rows = labels.map((_, i) => i);

/**
 * A "model" that ignores its training rows: candidate c predicts row i correctly with probability skill[c], fixed
 * per (c, i). Its true accuracy is skill[c]; any fold-to-fold difference is the noise of a finite test set.
 */
function scorer(skill: readonly number[]) {
  return (c: number, _train: readonly number[], test: readonly number[]) => {
    let right = 0;
    for (const i of test) {
      const u = draw(c, i);
      const predicted = u < skill[c] ? labels[i] : 1 - labels[i];
      if (predicted === labels[i]) right++;
    }
    return right / test.length;
  };
}

const kfold = (items: readonly number[], seed: number, k = 5) =>
  stratifiedGroupKFold(items, { k, seed, stratify: (i) => labels[i] }).map((f) => ({
    train: f.train.map((j) => items[j]),
    val: f.val.map((j) => items[j]),
  }));

test("nested CV: the chosen model's inner score is optimistic, the outer estimate is not", async () => {
  const candidates = Array.from({ length: 30 }, (_, c) => c);
  const skill = candidates.map(() => 0.5); // thirty coin flips: nothing to learn
  const nested = await nestedCrossValidation(candidates, kfold(rows, 1), (train, f) => kfold(train, 100 + f), scorer(skill));
  assert.equal(nested.outer.length, 5);
  assert.ok(nested.selectionScore > 0.54, `the winners' inner scores should be optimistic, got ${nested.selectionScore}`);
  assert.ok(Math.abs(nested.estimate - 0.5) < 0.03, `the outer estimate should be near the true 0.5, got ${nested.estimate}`);
  assert.ok(nested.selectionScore - nested.estimate > 0.03);
  assert.equal(nested.chosenCounts.reduce((a, b) => a + b, 0), 5);
});

test("nested CV finds a genuinely better candidate and estimates it without bias", async () => {
  const skill = [0.5, 0.5, 0.75, 0.5, 0.6];
  const nested = await nestedCrossValidation([0, 1, 2, 3, 4], kfold(rows, 2), (train, f) => kfold(train, 200 + f), scorer(skill));
  assert.deepEqual(nested.outer.map((o) => o.chosen), [2, 2, 2, 2, 2]);
  assert.ok(Math.abs(nested.estimate - 0.75) < 0.04, `estimate ${nested.estimate}`);
});

test("nested CV refuses inner folds that contain an outer test row", async () => {
  await assert.rejects(
    nestedCrossValidation([0], kfold(rows, 3), () => kfold(rows, 4), scorer([0.5])),
    /outer fold 0's test row \d+ is in an inner fold/,
  );
});

test("leave-one-fold-out selection: no fold grades its own choice", async () => {
  const candidates = Array.from({ length: 30 }, (_, c) => c);
  const scored = await scoreCandidates(candidates, kfold(rows, 5), scorer(candidates.map(() => 0.5)));
  const r = crossFoldSelection(scored);
  assert.ok(r.chosen.mean > 0.53, `self-graded winner ${r.chosen.mean}`);
  assert.ok(Math.abs(r.estimate - 0.5) < 0.03, `cross-fold estimate ${r.estimate}`);
  for (const p of r.perFold) assert.ok(p.scoreOnOtherFolds >= p.score - 0.2);
});

test("re-scoring the winner on fresh CV seeds of the same rows keeps its luck (why nested CV is needed)", async () => {
  const candidates = Array.from({ length: 30 }, (_, c) => c);
  const score = scorer(candidates.map(() => 0.5));
  const scored = await scoreCandidates(candidates, kfold(rows, 5), score);
  const winner = scored.reduce((a, b) => (b.mean > a.mean ? b : a));
  const [fresh] = await scoreCandidates([winner.candidate], [...kfold(rows, 6), ...kfold(rows, 7)], score);
  assert.ok(fresh.mean > 0.53, `the fresh-seed re-score stays optimistic: ${fresh.mean}`);
});

test("scoreCandidates: ties keep the earlier candidate; empty input is an error", async () => {
  const scored = await scoreCandidates(["a", "b"], kfold(rows, 8), () => 0.7);
  assert.deepEqual(scored.map((s) => s.mean), [0.7, 0.7]);
  assert.equal(crossFoldSelection(scored).chosen.candidate, "a");
  await assert.rejects(scoreCandidates([], kfold(rows, 8), () => 0), /no candidates/);
});
