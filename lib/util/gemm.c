// Single-threaded float32 matrix product for the small dense networks' training step (lib/train/fused-steps.ts) and
// the embedding PCA (lib/features/pca.ts): C (m × n) = A (m × k) · B (k × n), or C += A · B.
// Built by lib/engine/simd/build.sh into gemm.wasm with its own memory (exported); callers lay their arrays out in it
// (gemm.ts). It sits in lib/util, not lib/engine: lib/features (the PCA) comes before the engine in the data flow.
//
// B and C are row-major with row strides n. A is read through strides, so that Aᵀ needs no copy:
//   A[i][p] = a[i * a_row + p * a_col]   (A itself: a_row = k, a_col = 1; the transpose of a k × m matrix: 1, m).
// The inner block is 4 rows × 8 columns: 8 vector accumulators, per step of p two loads of B and four splats of A.
// Sums run over p in order, one accumulator per output, so a result does not depend on the block it falls in.

#include <wasm_simd128.h>

typedef float f32;
typedef int i32;

static inline v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

static inline v128_t start(const f32* c, i32 accumulate) { return accumulate ? wasm_v128_load(c) : wasm_f32x4_splat(0.0f); }

// Rows i..i+3, columns j..j+7.
static inline void block4x8(const f32* a, const f32* b, f32* c, i32 n, i32 k, i32 a_row, i32 a_col, i32 i, i32 j,
                            i32 accumulate) {
  const f32* a0 = a + i * a_row;
  const f32* a1 = a0 + a_row;
  const f32* a2 = a1 + a_row;
  const f32* a3 = a2 + a_row;
  f32* c0 = c + i * n + j;
  f32* c1 = c0 + n;
  f32* c2 = c1 + n;
  f32* c3 = c2 + n;
  v128_t s00 = start(c0, accumulate), s01 = start(c0 + 4, accumulate);
  v128_t s10 = start(c1, accumulate), s11 = start(c1 + 4, accumulate);
  v128_t s20 = start(c2, accumulate), s21 = start(c2 + 4, accumulate);
  v128_t s30 = start(c3, accumulate), s31 = start(c3 + 4, accumulate);
  const f32* bp = b + j;
  for (i32 p = 0; p < k; p++, bp += n) {
    const v128_t b0 = wasm_v128_load(bp);
    const v128_t b1 = wasm_v128_load(bp + 4);
    const i32 o = p * a_col;
    const v128_t x0 = wasm_f32x4_splat(a0[o]);
    const v128_t x1 = wasm_f32x4_splat(a1[o]);
    const v128_t x2 = wasm_f32x4_splat(a2[o]);
    const v128_t x3 = wasm_f32x4_splat(a3[o]);
    s00 = madd(s00, x0, b0);
    s01 = madd(s01, x0, b1);
    s10 = madd(s10, x1, b0);
    s11 = madd(s11, x1, b1);
    s20 = madd(s20, x2, b0);
    s21 = madd(s21, x2, b1);
    s30 = madd(s30, x3, b0);
    s31 = madd(s31, x3, b1);
  }
  wasm_v128_store(c0, s00);
  wasm_v128_store(c0 + 4, s01);
  wasm_v128_store(c1, s10);
  wasm_v128_store(c1 + 4, s11);
  wasm_v128_store(c2, s20);
  wasm_v128_store(c2 + 4, s21);
  wasm_v128_store(c3, s30);
  wasm_v128_store(c3 + 4, s31);
}

// One row i, columns j..j+3.
static inline void block1x4(const f32* a, const f32* b, f32* c, i32 n, i32 k, i32 a_row, i32 a_col, i32 i, i32 j,
                            i32 accumulate) {
  const f32* ai = a + i * a_row;
  f32* ci = c + i * n + j;
  v128_t s = start(ci, accumulate);
  const f32* bp = b + j;
  for (i32 p = 0; p < k; p++, bp += n) s = madd(s, wasm_f32x4_splat(ai[p * a_col]), wasm_v128_load(bp));
  wasm_v128_store(ci, s);
}

// One entry.
static inline void block1x1(const f32* a, const f32* b, f32* c, i32 n, i32 k, i32 a_row, i32 a_col, i32 i, i32 j,
                            i32 accumulate) {
  const f32* ai = a + i * a_row;
  f32 s = accumulate ? c[i * n + j] : 0.0f;
  for (i32 p = 0; p < k; p++) s += ai[p * a_col] * b[p * n + j];
  c[i * n + j] = s;
}

void gemm(const f32* a, const f32* b, f32* c, i32 m, i32 n, i32 k, i32 a_row, i32 a_col, i32 accumulate) {
  const i32 n8 = n - n % 8;
  const i32 n4 = n - n % 4;
  i32 i = 0;
  for (; i + 4 <= m; i += 4) {
    for (i32 j = 0; j < n8; j += 8) block4x8(a, b, c, n, k, a_row, a_col, i, j, accumulate);
    for (i32 r = i; r < i + 4; r++) {
      for (i32 j = n8; j < n4; j += 4) block1x4(a, b, c, n, k, a_row, a_col, r, j, accumulate);
      for (i32 j = n4; j < n; j++) block1x1(a, b, c, n, k, a_row, a_col, r, j, accumulate);
    }
  }
  for (; i < m; i++) {
    for (i32 j = 0; j < n4; j += 4) block1x4(a, b, c, n, k, a_row, a_col, i, j, accumulate);
    for (i32 j = n4; j < n; j++) block1x1(a, b, c, n, k, a_row, a_col, i, j, accumulate);
  }
}
