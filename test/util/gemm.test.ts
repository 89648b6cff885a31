import { test } from "node:test";
import assert from "node:assert/strict";
import { gemmArrays } from "../../lib/util/gemm";

/** A · B in float64, A read as given or transposed (`a` holding a k × m matrix). */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, transposeA: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transposeA ? a[p * m + i] : a[i * k + p]) * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

function assertClose(actual: Float32Array, expected: Float64Array, k: number, what: string): void {
  for (let e = 0; e < expected.length; e++) {
    const tolerance = 1e-6 * k * Math.max(1, Math.abs(expected[e]));
    assert.ok(Math.abs(actual[e] - expected[e]) <= tolerance, `${what}: entry ${e} is ${actual[e]}, expected ${expected[e]}`);
  }
}

test("the SIMD product equals A·B for every block remainder, transposed A and accumulation", () => {
  // Shapes around the 4 × 8 block: full blocks, 4-column and single-column tails, leftover rows, k of 1.
  for (const [m, n, k] of [[8, 16, 5], [7, 13, 9], [4, 8, 1], [1, 3, 33], [33, 64, 80], [5, 12, 2]]) {
    const gemm = gemmArrays([m * k, k * n, m * n]);
    const [a, b, c] = gemm.arrays;
    a.forEach((_, i) => (a[i] = Math.sin(i * 0.37 + m)));
    b.forEach((_, i) => (b[i] = Math.cos(i * 0.11 + n)));
    gemm.multiply(a, b, c, m, n, k);
    assertClose(c, reference(a, b, m, n, k, false), k, `${m}×${n}×${k}`);
    gemm.multiply(a, b, c, m, n, k, { transposeA: true });
    assertClose(c, reference(a, b, m, n, k, true), k, `${m}×${n}×${k} transposed`);
    const before = Float64Array.from(c);
    gemm.multiply(a, b, c, m, n, k, { accumulate: true });
    const sum = reference(a, b, m, n, k, false).map((v, e) => v + before[e]);
    assertClose(c, sum, k, `${m}×${n}×${k} accumulated`);
  }
});

test("the product leaves the arrays around its output untouched and refuses arrays it does not own", () => {
  const gemm = gemmArrays([6, 6, 5, 4]);
  const [a, b, c, after] = gemm.arrays;
  a.fill(1);
  b.fill(2);
  after.fill(7);
  gemm.multiply(a, b, c.subarray(0, 4), 2, 2, 3);
  assert.deepEqual(Array.from(c), [6, 6, 6, 6, 0]);
  assert.deepEqual(Array.from(after), [7, 7, 7, 7]);
  assert.throws(() => gemm.multiply(new Float32Array(6), b, c, 2, 2, 3), /a is not one of this instance's arrays/);
  assert.throws(() => gemm.multiply(a, b, c, 3, 2, 3), /c holds 5 values, the product needs 6|a holds 6 values, the product needs 9/);
});
