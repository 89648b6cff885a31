/**
 * Choosing the best of several candidates without grading the choice on the data that made it.
 *
 * The winner's score on the folds that chose it is the maximum of several noisy estimates, so it is optimistic
 * (the winner's curse). Two honest ways to estimate what the choice is worth:
 *
 *   // nested CV: every outer fold chooses with an inner CV on its own training rows, then scores the choice once
 *   const nested = await nestedCrossValidation(candidates, outerFolds, (train) => innerFoldsOf(train), score);
 *   nested.estimate;            // mean outer score: unbiased for "run this selection procedure"
 *   nested.outer[0].innerBest;  // the optimistic inner score of that fold's winner, for comparison
 *
 *   // leave-one-fold-out selection over an ordinary CV's scores (no extra training)
 *   const honest = crossFoldSelection(await scoreCandidates(candidates, folds, score));
 *
 * Re-scoring the winner on fresh CV seeds of the same rows is NOT enough on its own: a model whose errors sit on
 * particular rows keeps its lucky rows under any re-partition (test/features/selection.test.ts shows it).
 *
 * `score(candidate, trainRows, testRows)` trains on trainRows and returns a score on testRows (higher is better);
 * rows are indices into the caller's data. Nothing here knows about models or TensorFlow.js.
 */
import { mean, std } from "../util";
import type { FoldIndices } from "./splits";

export type FoldScorer<C> = (candidate: C, train: readonly number[], test: readonly number[]) => Promise<number> | number;

export interface CandidateScores<C> {
  candidate: C;
  /** One score per fold, in fold order. */
  scores: number[];
  mean: number;
  std: number;
}

/** Every candidate scored on every fold (population std over folds). */
export async function scoreCandidates<C>(candidates: readonly C[], folds: readonly FoldIndices[], score: FoldScorer<C>): Promise<CandidateScores<C>[]> {
  if (candidates.length === 0) throw new Error("scoreCandidates: no candidates");
  if (folds.length === 0) throw new Error("scoreCandidates: no folds");
  const out: CandidateScores<C>[] = [];
  for (const candidate of candidates) {
    const scores: number[] = [];
    for (const fold of folds) scores.push(await score(candidate, fold.train, fold.val));
    out.push({ candidate, scores, mean: mean(scores), std: std(scores, 0) });
  }
  return out;
}

/** The best mean score; ties go to the earlier candidate, so the order of `candidates` is the tie-break. */
export function bestOf<C>(scored: readonly CandidateScores<C>[]): CandidateScores<C> {
  return scored.reduce((best, s) => (s.mean > best.mean ? s : best));
}

export interface OuterFoldResult<C> {
  fold: number;
  chosen: C;
  /** The chosen candidate's mean inner-CV score: what the selection saw (optimistic). */
  innerBest: number;
  /** Every candidate's inner-CV scores on this outer fold's training rows. */
  inner: CandidateScores<C>[];
  /** The chosen candidate trained on the outer training rows, scored once on the outer test rows. */
  outerScore: number;
}

export interface NestedResult<C> {
  outer: OuterFoldResult<C>[];
  /** Mean of the outer scores: the estimate of the whole procedure (choose, then train). */
  estimate: number;
  estimateStd: number;
  /** Mean of the winners' inner scores: what a self-graded selection would have reported. */
  selectionScore: number;
  /** How often each candidate was chosen (by its position in `candidates`). */
  chosenCounts: number[];
}

/**
 * Nested cross-validation. `innerFoldsOf(outerTrain)` splits an outer fold's training rows (indices into the same
 * data) into inner folds, e.g. a grouped stratified k-fold of those rows; the outer test rows never reach it.
 */
export async function nestedCrossValidation<C>(
  candidates: readonly C[],
  outerFolds: readonly FoldIndices[],
  innerFoldsOf: (outerTrain: readonly number[], outerFold: number) => FoldIndices[],
  score: FoldScorer<C>,
  options: { onOuterFold?: (result: OuterFoldResult<C>) => void } = {},
): Promise<NestedResult<C>> {
  const outer: OuterFoldResult<C>[] = [];
  const chosenCounts = candidates.map(() => 0);
  for (let f = 0; f < outerFolds.length; f++) {
    const { train, val: test } = outerFolds[f];
    const held = new Set(test);
    const innerFolds = innerFoldsOf(train, f);
    for (const inner of innerFolds) {
      for (const i of [...inner.train, ...inner.val]) {
        if (held.has(i)) throw new Error(`nestedCrossValidation: outer fold ${f}'s test row ${i} is in an inner fold`);
      }
    }
    const inner = await scoreCandidates(candidates, innerFolds, score);
    const best = bestOf(inner);
    chosenCounts[candidates.indexOf(best.candidate)]++;
    const result: OuterFoldResult<C> = { fold: f, chosen: best.candidate, innerBest: best.mean, inner, outerScore: await score(best.candidate, train, test) };
    outer.push(result);
    options.onOuterFold?.(result);
  }
  const outerScores = outer.map((o) => o.outerScore);
  return { outer, estimate: mean(outerScores), estimateStd: std(outerScores, 0), selectionScore: mean(outer.map((o) => o.innerBest)), chosenCounts };
}

export interface CrossFoldSelection<C> {
  /** Per fold: the candidate with the best mean score on the OTHER folds, and its score on this fold. */
  perFold: { fold: number; chosen: C; scoreOnOtherFolds: number; score: number }[];
  /** Mean of the per-fold scores: no fold's score took part in choosing the model it scores. */
  estimate: number;
  estimateStd: number;
  /** The overall winner (best mean over all folds) and that mean: the self-graded, optimistic number. */
  chosen: CandidateScores<C>;
}

/**
 * Leave-one-fold-out selection over one CV's per-fold scores, at no extra training cost: for fold f the candidate is
 * chosen by its mean over the other folds, and only its fold-f score enters the estimate, so the estimate does not
 * reuse the test noise that picked the winner. (The chosen models were still trained on rows that include fold f,
 * so this is cheaper and slightly weaker than nestedCrossValidation, which keeps the outer rows out of everything.)
 */
export function crossFoldSelection<C>(scored: readonly CandidateScores<C>[]): CrossFoldSelection<C> {
  if (scored.length === 0) throw new Error("crossFoldSelection: no candidates");
  const k = scored[0].scores.length;
  if (k < 2 || scored.some((s) => s.scores.length !== k)) throw new Error("crossFoldSelection: every candidate needs the same ≥ 2 folds");
  const perFold = Array.from({ length: k }, (_, f) => {
    let best = scored[0];
    let bestOther = -Infinity;
    for (const s of scored) {
      const other = (s.scores.reduce((a, b) => a + b, 0) - s.scores[f]) / (k - 1);
      if (other > bestOther) {
        best = s;
        bestOther = other;
      }
    }
    return { fold: f, chosen: best.candidate, scoreOnOtherFolds: bestOther, score: best.scores[f] };
  });
  const scores = perFold.map((p) => p.score);
  return { perFold, estimate: mean(scores), estimateStd: std(scores, 0), chosen: bestOf(scored) };
}
