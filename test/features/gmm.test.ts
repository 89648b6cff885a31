import { test } from "node:test";
import assert from "node:assert/strict";
import { fitGaussianMixture, gmmBic, predictGaussianMixture } from "../../lib/features";
import { createRng } from "../../lib/util/random";

/** 300 + 150 points around (0, 0) and (5, 3), correlated in the first cluster. */
function blobs(seed = 1): { points: number[][]; truth: number[] } {
  const rng = createRng(seed);
  const points: number[][] = [];
  const truth: number[] = [];
  for (let i = 0; i < 450; i++) {
    const c = i < 300 ? 0 : 1;
    const a = rng.normal();
    const b = rng.normal();
    points.push(c === 0 ? [a, 0.8 * a + 0.3 * b] : [5 + 0.5 * a, 3 + 0.5 * b]);
    truth.push(c);
  }
  return { points, truth };
}

test("GMM recovers two clusters: weights, means, covariance, assignments; same seed ⇒ same fit", () => {
  const { points, truth } = blobs();
  const gmm = fitGaussianMixture(points, { k: 2, seed: 0 });
  const first = gmm.means[0][0] < gmm.means[1][0] ? 0 : 1;
  assert.ok(Math.abs(gmm.weights[first] - 2 / 3) < 0.01);
  assert.ok(Math.abs(gmm.means[1 - first][0] - 5) < 0.15 && Math.abs(gmm.means[1 - first][1] - 3) < 0.15);
  const cov = gmm.covariances[first];
  assert.ok(Math.abs(cov[0][1] - 0.8) < 0.2 && cov[0][1] === cov[1][0], `covariance ${JSON.stringify(cov)}`);
  const predicted = predictGaussianMixture(gmm, points).map((c) => (c === first ? 0 : 1));
  assert.equal(predicted.filter((p, i) => p === truth[i]).length, points.length);
  assert.ok(gmm.converged);
  assert.deepEqual(fitGaussianMixture(points, { k: 2, seed: 0 }), gmm);
  assert.ok(gmmBic(gmm, points.length) < gmmBic(fitGaussianMixture(points, { k: 1, seed: 0 }), points.length));
});

test("GMM refuses bad input", () => {
  assert.throws(() => fitGaussianMixture([[0, 0]], { k: 2, seed: 0 }), /cannot fill 2 components/);
  assert.throws(() => fitGaussianMixture([[0, 0], [1, NaN], [2, 2]], { k: 2, seed: 0 }), /finite/);
});
