import { test } from "node:test";
import assert from "node:assert/strict";
import { fitPca, transformPca } from "../../lib/features";
import { createRng } from "../../lib/util/random";

/** 200 rows in 12 dimensions: variance 25 along u, 4 along v, 0.01 elsewhere. */
function data() {
  const rng = createRng(3);
  const d = 12;
  const u = Array.from({ length: d }, (_, j) => (j < 4 ? 0.5 : 0));
  const v = Array.from({ length: d }, (_, j) => (j >= 4 && j < 8 ? 0.5 : 0));
  const rows = 200;
  const out = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const a = rng.normal() * 5;
    const b = rng.normal() * 2;
    for (let j = 0; j < d; j++) out[i * d + j] = 3 + a * u[j] + b * v[j] + rng.normal() * 0.1;
  }
  return { m: { columns: Array.from({ length: d }, (_, j) => `e${j}`), rows, data: out }, u, v };
}

test("PCA finds the dominant directions in order, orthonormal, seeded", () => {
  const { m, u, v } = data();
  const rows = Array.from({ length: m.rows }, (_, i) => i);
  const pca = fitPca(m, rows, 2, { seed: 1 });
  const comp = (t: number) => Array.from(pca.components.subarray(t * 12, (t + 1) * 12));
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  assert.ok(Math.abs(Math.abs(dot(comp(0), u)) - 1) < 0.01, "first component ≈ ±u");
  assert.ok(Math.abs(Math.abs(dot(comp(1), v)) - 1) < 0.01, "second component ≈ ±v");
  assert.ok(Math.abs(dot(comp(0), comp(1))) < 1e-9);
  assert.ok(pca.explainedVariance[0] > 20 && pca.explainedVariance[0] < 30 && pca.explainedVariance[1] > 3 && pca.explainedVariance[1] < 5.5);
  const projected = transformPca(pca, m, rows);
  const mean0 = Array.from({ length: m.rows }, (_, i) => projected.data[i * 2]).reduce((a, b) => a + b, 0) / m.rows;
  assert.ok(Math.abs(mean0) < 1e-4);
  assert.deepEqual(fitPca(m, rows, 2, { seed: 1 }).components, pca.components);
  assert.throws(() => fitPca(m, rows, 13), /k must be in \[1, 12\]/);
});

test("PCA fitted on training rows only: other rows do not move it", () => {
  const { m } = data();
  const train = Array.from({ length: 150 }, (_, i) => i);
  const a = fitPca(m, train, 3, { seed: 2 });
  const changed = { ...m, data: Float32Array.from(m.data, (x, j) => (j >= 150 * 12 ? x * 100 : x)) };
  const b = fitPca(changed, train, 3, { seed: 2 });
  assert.deepEqual(b.components, a.components);
  assert.deepEqual(b.mean, a.mean);
});
