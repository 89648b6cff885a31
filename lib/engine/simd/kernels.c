// Training kernels that tfjs-backend-wasm lacks or runs slowly, as WebAssembly SIMD (wasm32 + simd128).
//
// The module imports the tfjs wasm backend's own (shared) memory, so every pointer here is a byte offset into
// the tfjs heap: tensors are read and written in place, without copies. It has no data segment and uses no
// shadow stack (every local lives in a wasm local; see build.sh, which checks the output for __stack_pointer).
// Each entry point computes one slice of its work (rows [row_begin, row_end), its last two arguments), so that
// threads can share a call by taking slices in turn (pool.ts).
//
// Build: lib/engine/simd/build.sh (clang 14: apt-get install clang-14 lld-14). The built kernels.wasm is
// committed next to this file.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;
typedef int i32;

// acc + a·b, lane by lane (wasm SIMD has no fused multiply-add).
static inline v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

// p[0..4) += v.
static inline void add_store(f32* p, v128_t v) { wasm_v128_store(p, wasm_f32x4_add(wasm_v128_load(p), v)); }

static inline v128_t splat_lane(v128_t v, int lane) {
  switch (lane) {
    case 0: return wasm_i32x4_shuffle(v, v, 0, 0, 0, 0);
    case 1: return wasm_i32x4_shuffle(v, v, 1, 1, 1, 1);
    case 2: return wasm_i32x4_shuffle(v, v, 2, 2, 2, 2);
    default: return wasm_i32x4_shuffle(v, v, 3, 3, 3, 3);
  }
}

// Conv2D filter gradient, NHWC, dilation 1:
//   dw[kh, kw, c, o] += Σ_{n, oy, ox} x[n, oy·sh + kh − pt, ox·sw + kw − pl, c] · dy[n, oy, ox, o]
// over the output rows r = n·oh + oy in [row_begin, row_end). `dw` (fh·fw·ci·co floats) must be zeroed by the
// caller; threads give each call its own dw and the caller adds them up.
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const f32* x, const f32* dy, f32* dw, i32 h, i32 w, i32 ci, i32 oh, i32 ow, i32 co,
                        i32 fh, i32 fw, i32 sh, i32 sw, i32 pt, i32 pl, i32 row_begin, i32 row_end) {
  const i32 co8 = co & ~7;
  const i32 co4 = co & ~3;
  const i32 ci4 = ci & ~3;
  for (i32 r = row_begin; r < row_end; r++) {
    const i32 n = r / oh;
    const i32 oy = r - n * oh;
    const f32* dyrow = dy + (long)r * ow * co;
    for (i32 kh = 0; kh < fh; kh++) {
      const i32 iy = oy * sh + kh - pt;
      if (iy < 0 || iy >= h) continue;
      const f32* xrow = x + ((long)n * h + iy) * w * ci;
      for (i32 kw = 0; kw < fw; kw++) {
        // Output columns whose input column ox·sw + kw − pl lies inside the image.
        i32 ox0 = 0;
        while (ox0 < ow && ox0 * sw + kw - pl < 0) ox0++;
        i32 ox1 = ow;
        while (ox1 > ox0 && (ox1 - 1) * sw + kw - pl >= w) ox1--;
        if (ox0 >= ox1) continue;
        f32* dwtap = dw + (long)(kh * fw + kw) * ci * co;
        const i32 xstep = sw * ci;
        const f32* xstart = xrow + (long)(ox0 * sw + kw - pl) * ci;
        const f32* dystart = dyrow + (long)ox0 * co;
        const i32 count = ox1 - ox0;
        i32 c = 0;
        // Four input channels × eight output channels at a time: 8 accumulators, dy loaded once for 4 channels.
        for (; c < ci4; c += 4) {
          f32* out = dwtap + (long)c * co;
          i32 o = 0;
          for (; o < co8; o += 8) {
            v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            const f32* xp = xstart + c;
            const f32* dp = dystart + o;
            for (i32 k = 0; k < count; k++, xp += xstep, dp += co) {
              const v128_t xv = wasm_v128_load(xp);
              const v128_t d0 = wasm_v128_load(dp);
              const v128_t d1 = wasm_v128_load(dp + 4);
              const v128_t x0 = splat_lane(xv, 0), x1 = splat_lane(xv, 1), x2 = splat_lane(xv, 2), x3 = splat_lane(xv, 3);
              a00 = madd(a00, x0, d0);
              a01 = madd(a01, x0, d1);
              a10 = madd(a10, x1, d0);
              a11 = madd(a11, x1, d1);
              a20 = madd(a20, x2, d0);
              a21 = madd(a21, x2, d1);
              a30 = madd(a30, x3, d0);
              a31 = madd(a31, x3, d1);
            }
            f32* q = out + o;
            add_store(q, a00);
            add_store(q + 4, a01);
            q += co;
            add_store(q, a10);
            add_store(q + 4, a11);
            q += co;
            add_store(q, a20);
            add_store(q + 4, a21);
            q += co;
            add_store(q, a30);
            add_store(q + 4, a31);
          }
          // Remaining output channels, one at a time.
          for (; o < co; o++) {
            f32 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            const f32* xp = xstart + c;
            const f32* dp = dystart + o;
            for (i32 k = 0; k < count; k++, xp += xstep, dp += co) {
              const f32 d = *dp;
              s0 += xp[0] * d;
              s1 += xp[1] * d;
              s2 += xp[2] * d;
              s3 += xp[3] * d;
            }
            out[o] += s0;
            out[o + co] += s1;
            out[o + 2 * co] += s2;
            out[o + 3 * co] += s3;
          }
        }
        // Remaining input channels, one at a time (e.g. the 3 colour channels of a first layer).
        for (; c < ci; c++) {
          f32* out = dwtap + (long)c * co;
          i32 o = 0;
          for (; o < co8; o += 8) {
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
            const f32* xp = xstart + c;
            const f32* dp = dystart + o;
            for (i32 k = 0; k < count; k++, xp += xstep, dp += co) {
              const v128_t xs = wasm_v128_load32_splat(xp);
              a0 = madd(a0, xs, wasm_v128_load(dp));
              a1 = madd(a1, xs, wasm_v128_load(dp + 4));
            }
            add_store(out + o, a0);
            add_store(out + o + 4, a1);
          }
          for (; o < co4; o += 4) {
            v128_t a0 = wasm_f32x4_splat(0);
            const f32* xp = xstart + c;
            const f32* dp = dystart + o;
            for (i32 k = 0; k < count; k++, xp += xstep, dp += co) {
              a0 = madd(a0, wasm_v128_load32_splat(xp), wasm_v128_load(dp));
            }
            add_store(out + o, a0);
          }
          for (; o < co; o++) {
            f32 s = 0;
            const f32* xp = xstart + c;
            const f32* dp = dystart + o;
            for (i32 k = 0; k < count; k++, xp += xstep, dp += co) s += *xp * *dp;
            out[o] += s;
          }
        }
      }
    }
  }
}

// Conv2D input gradient, NHWC, dilation 1:
//   dx[n, iy, ix, c] = Σ_{kh, kw, o} dy[n, oy, ox, o] · w[kh, kw, c, o]   where oy·sh = iy + pt − kh, ox·sw = ix + pl − kw
// for the input rows r = n·h + iy in [row_begin, row_end). `wf` is the filter [kh, kw, c, o]; `wt` the same laid out
// [kh, kw, o, c] (the caller transposes it: it is small), so that a splat of one dy value multiplies a run of
// input channels.
// The dy row of output position (ty / s) when ty ≥ 0 is a multiple of the stride s and inside [0, limit); else −1.
static inline i32 tap_source(i32 ty, i32 s, i32 limit) {
  if (ty < 0) return -1;
  if (s != 1) {
    if (ty % s != 0) return -1;
    ty /= s;
  }
  return ty < limit ? ty : -1;
}

static inline f32 lane_sum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

// out[c .. c+16) += Σ_o dy[o] · wt[o, c .. c+16) for one or two pixels (g1/out1 null for one): the two pixels share
// the filter loads.
static inline void accumulate16(const f32* g0, const f32* g1, const f32* wt_c, i32 co, i32 ci, f32* out0, f32* out1) {
  v128_t a0 = wasm_v128_load(out0), a1 = wasm_v128_load(out0 + 4), a2 = wasm_v128_load(out0 + 8), a3 = wasm_v128_load(out0 + 12);
  const f32* f = wt_c;
  if (g1) {
    v128_t b0 = wasm_v128_load(out1), b1 = wasm_v128_load(out1 + 4), b2 = wasm_v128_load(out1 + 8), b3 = wasm_v128_load(out1 + 12);
    for (i32 o = 0; o < co; o++, f += ci) {
      const v128_t f0 = wasm_v128_load(f), f1 = wasm_v128_load(f + 4), f2 = wasm_v128_load(f + 8), f3 = wasm_v128_load(f + 12);
      const v128_t s = wasm_v128_load32_splat(g0 + o), t = wasm_v128_load32_splat(g1 + o);
      a0 = madd(a0, s, f0);
      a1 = madd(a1, s, f1);
      a2 = madd(a2, s, f2);
      a3 = madd(a3, s, f3);
      b0 = madd(b0, t, f0);
      b1 = madd(b1, t, f1);
      b2 = madd(b2, t, f2);
      b3 = madd(b3, t, f3);
    }
    wasm_v128_store(out1, b0);
    wasm_v128_store(out1 + 4, b1);
    wasm_v128_store(out1 + 8, b2);
    wasm_v128_store(out1 + 12, b3);
  } else {
    for (i32 o = 0; o < co; o++, f += ci) {
      const v128_t s = wasm_v128_load32_splat(g0 + o);
      a0 = madd(a0, s, wasm_v128_load(f));
      a1 = madd(a1, s, wasm_v128_load(f + 4));
      a2 = madd(a2, s, wasm_v128_load(f + 8));
      a3 = madd(a3, s, wasm_v128_load(f + 12));
    }
  }
  wasm_v128_store(out0, a0);
  wasm_v128_store(out0 + 4, a1);
  wasm_v128_store(out0 + 8, a2);
  wasm_v128_store(out0 + 12, a3);
}

static inline void accumulate4(const f32* g, const f32* wt_c, i32 co, i32 ci, f32* out) {
  v128_t a0 = wasm_v128_load(out);
  const f32* f = wt_c;
  for (i32 o = 0; o < co; o++, f += ci) a0 = madd(a0, wasm_v128_load32_splat(g + o), wasm_v128_load(f));
  wasm_v128_store(out, a0);
}

EXPORT(conv2d_input_grad)
void conv2d_input_grad(const f32* dy, const f32* wf, const f32* wt, f32* dx, i32 h, i32 w, i32 ci, i32 oh, i32 ow,
                       i32 co, i32 fh, i32 fw, i32 sh, i32 sw, i32 pt, i32 pl, i32 row_begin, i32 row_end) {
  const i32 ci16 = ci & ~15;
  const i32 ci4 = ci & ~3;
  // Pixels are taken two at a time (sharing the filter loads) when the stride is 1 and there are runs of 16 channels.
  const i32 step = (sw == 1 && ci16 > 0) ? 2 : 1;
  for (i32 r = row_begin; r < row_end; r++) {
    const i32 n = r / h;
    const i32 iy = r - n * h;
    f32* dxrow = dx + (long)r * w * ci;
    for (i32 ix = 0; ix < w; ix += step) {
      const i32 pair = step == 2 && ix + 1 < w;
      f32* out0 = dxrow + (long)ix * ci;
      f32* out1 = pair ? out0 + ci : 0;
      for (i32 c = 0; c < ci * (pair ? 2 : 1); c++) out0[c] = 0;
      // Runs of 16 and 4 channels: accumulated in the output row, tap by tap.
      if (ci4 > 0) {
        for (i32 kh = 0; kh < fh; kh++) {
          const i32 oy = tap_source(iy + pt - kh, sh, oh);
          if (oy < 0) continue;
          const f32* dyrow = dy + ((long)n * oh + oy) * ow * co;
          for (i32 kw = 0; kw < fw; kw++) {
            const i32 ox0 = tap_source(ix + pl - kw, sw, ow);
            const i32 ox1 = pair ? tap_source(ix + 1 + pl - kw, sw, ow) : -1;
            if (ox0 < 0 && ox1 < 0) continue;
            const f32* tap_t = wt + (long)(kh * fw + kw) * co * ci;
            for (i32 c = 0; c < ci16; c += 16) {
              if (ox0 >= 0 && ox1 >= 0) accumulate16(dyrow + (long)ox0 * co, dyrow + (long)ox1 * co, tap_t + c, co, ci, out0 + c, out1 + c);
              else if (ox0 >= 0) accumulate16(dyrow + (long)ox0 * co, 0, tap_t + c, co, ci, out0 + c, 0);
              else accumulate16(dyrow + (long)ox1 * co, 0, tap_t + c, co, ci, out1 + c, 0);
            }
            for (i32 c = ci16; c < ci4; c += 4) {
              if (ox0 >= 0) accumulate4(dyrow + (long)ox0 * co, tap_t + c, co, ci, out0 + c);
              if (ox1 >= 0) accumulate4(dyrow + (long)ox1 * co, tap_t + c, co, ci, out1 + c);
            }
          }
        }
      }
      // One to three channels left (e.g. an RGB input): dot products over o of dy with the filter in its own
      // [kh, kw, c, o] layout, dy loaded once for all of them, accumulated across taps in registers.
      if (ci4 < ci) {
        for (i32 p = 0; p < (pair ? 2 : 1); p++) {
          const i32 px = ix + p;
          f32* out = out0 + (long)p * ci;
          const i32 c = ci4;
          const i32 left = ci - c;
          v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0;
          f32 s0 = 0, s1 = 0, s2 = 0;
          for (i32 kh = 0; kh < fh; kh++) {
            const i32 oy = tap_source(iy + pt - kh, sh, oh);
            if (oy < 0) continue;
            for (i32 kw = 0; kw < fw; kw++) {
              const i32 ox = tap_source(px + pl - kw, sw, ow);
              if (ox < 0) continue;
              const f32* g = dy + (((long)n * oh + oy) * ow + ox) * co;
              const f32* f0 = wf + ((long)(kh * fw + kw) * ci + c) * co;
              const f32* f1 = f0 + co;
              const f32* f2 = f1 + co;
              i32 o = 0;
              for (; o + 4 <= co; o += 4) {
                const v128_t d = wasm_v128_load(g + o);
                a0 = madd(a0, d, wasm_v128_load(f0 + o));
                if (left > 1) a1 = madd(a1, d, wasm_v128_load(f1 + o));
                if (left > 2) a2 = madd(a2, d, wasm_v128_load(f2 + o));
              }
              for (; o < co; o++) {
                s0 += g[o] * f0[o];
                if (left > 1) s1 += g[o] * f1[o];
                if (left > 2) s2 += g[o] * f2[o];
              }
            }
          }
          out[c] = lane_sum(a0) + s0;
          if (left > 1) out[c + 1] = lane_sum(a1) + s1;
          if (left > 2) out[c + 2] = lane_sum(a2) + s2;
        }
      }
    }
  }
}

// MaxPool 2×2 / stride 2 / valid gradient, NHWC: each window's gradient goes to its first maximum in row-major
// order (as tfjs's cpu kernel), the other three cells get 0. Output rows r = n·oh + oy in [row_begin, row_end).
// Input rows or columns left over by an odd size are not written (the caller zeroes dx first in that case).
EXPORT(maxpool2x2_grad)
void maxpool2x2_grad(const f32* x, const f32* dy, f32* dx, i32 h, i32 w, i32 c, i32 oh, i32 ow, i32 row_begin,
                     i32 row_end) {
  const long rowstride = (long)w * c;
  for (i32 r = row_begin; r < row_end; r++) {
    const i32 n = r / oh;
    const i32 oy = r - n * oh;
    const long top = ((long)n * h + 2 * oy) * rowstride;
    const f32* g = dy + (long)r * ow * c;
    for (i32 ox = 0; ox < ow; ox++, g += c) {
      const long p00 = top + 2L * ox * c, p01 = p00 + c, p10 = p00 + rowstride, p11 = p10 + c;
      i32 k = 0;
      for (; k + 4 <= c; k += 4) {
        const v128_t v00 = wasm_v128_load(x + p00 + k), v01 = wasm_v128_load(x + p01 + k);
        const v128_t v10 = wasm_v128_load(x + p10 + k), v11 = wasm_v128_load(x + p11 + k);
        const v128_t gv = wasm_v128_load(g + k);
        // Strict comparisons keep the first maximum: a later cell wins only when it is larger.
        const v128_t w01 = wasm_f32x4_gt(v01, v00);
        const v128_t best01 = wasm_v128_bitselect(v01, v00, w01);
        const v128_t w10 = wasm_f32x4_gt(v10, best01);
        const v128_t best = wasm_v128_bitselect(v10, best01, w10);
        const v128_t w11 = wasm_f32x4_gt(v11, best);
        const v128_t m11 = w11;
        const v128_t m10 = wasm_v128_andnot(w10, w11);
        const v128_t m01 = wasm_v128_andnot(wasm_v128_andnot(w01, w10), w11);
        const v128_t m00 = wasm_v128_not(wasm_v128_or(wasm_v128_or(w01, w10), w11));
        wasm_v128_store(dx + p00 + k, wasm_v128_and(gv, m00));
        wasm_v128_store(dx + p01 + k, wasm_v128_and(gv, m01));
        wasm_v128_store(dx + p10 + k, wasm_v128_and(gv, m10));
        wasm_v128_store(dx + p11 + k, wasm_v128_and(gv, m11));
      }
      for (; k < c; k++) {
        const f32 v00 = x[p00 + k], v01 = x[p01 + k], v10 = x[p10 + k], v11 = x[p11 + k];
        f32 best = v00;
        i32 at = 0;
        if (v01 > best) { best = v01; at = 1; }
        if (v10 > best) { best = v10; at = 2; }
        if (v11 > best) at = 3;
        dx[p00 + k] = at == 0 ? g[k] : 0;
        dx[p01 + k] = at == 1 ? g[k] : 0;
        dx[p10 + k] = at == 2 ? g[k] : 0;
        dx[p11 + k] = at == 3 ? g[k] : 0;
      }
    }
  }
}

// Per-channel sums of x viewed as [rows, c]: out[k] += Σ_{r in [row_begin, row_end)} x[r, k].
EXPORT(channel_sums)
void channel_sums(const f32* x, f32* out, i32 c, i32 row_begin, i32 row_end) {
  i32 k = 0;
  for (; k + 16 <= c; k += 16) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    const f32* p = x + (long)row_begin * c + k;
    for (i32 r = row_begin; r < row_end; r++, p += c) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
    }
    add_store(out + k, a0);
    add_store(out + k + 4, a1);
    add_store(out + k + 8, a2);
    add_store(out + k + 12, a3);
  }
  for (; k + 4 <= c; k += 4) {
    v128_t a0 = wasm_f32x4_splat(0);
    const f32* p = x + (long)row_begin * c + k;
    for (i32 r = row_begin; r < row_end; r++, p += c) a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
    add_store(out + k, a0);
  }
  for (; k < c; k++) {
    f32 s = 0;
    const f32* p = x + (long)row_begin * c + k;
    for (i32 r = row_begin; r < row_end; r++, p += c) s += *p;
    out[k] += s;
  }
}

// Per-channel affine map of x viewed as [rows, c]: y[r, k] = x[r, k]·scale[k] + shift[k], squared when `square`
// is 1 (for (x − v)²). Rows in [row_begin, row_end).
EXPORT(channel_affine)
void channel_affine(const f32* x, const f32* scale, const f32* shift, f32* y, i32 c, i32 square, i32 row_begin,
                    i32 row_end) {
  const i32 c4 = c & ~3;
  for (i32 r = row_begin; r < row_end; r++) {
    const f32* p = x + (long)r * c;
    f32* q = y + (long)r * c;
    i32 k = 0;
    for (; k < c4; k += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(p + k), wasm_v128_load(scale + k)), wasm_v128_load(shift + k));
      if (square) v = wasm_f32x4_mul(v, v);
      wasm_v128_store(q + k, v);
    }
    for (; k < c; k++) {
      f32 v = p[k] * scale[k] + shift[k];
      q[k] = square ? v * v : v;
    }
  }
}

// A float passed through the thread pool's integer argument slots, as its bit pattern.
static inline f32 float_from_bits(i32 bits) {
  union { i32 i; f32 f; } u;
  u.i = bits;
  return u.f;
}

// Broadcast along a middle axis: dst viewed as [a, b, c] gets dst[i, j, :] = src[i, :] · factor, for the rows
// r = i·b + j in [row_begin, row_end). The gradient of a Sum or Mean over contiguous axes. `factor_bits` is the
// float32 bit pattern of the factor.
EXPORT(broadcast_middle)
void broadcast_middle(const f32* src, f32* dst, i32 b, i32 c, i32 factor_bits, i32 row_begin, i32 row_end) {
  const f32 factor = float_from_bits(factor_bits);
  const v128_t k = wasm_f32x4_splat(factor);
  const i32 c4 = c & ~3;
  for (i32 r = row_begin; r < row_end; r++) {
    const f32* s = src + (long)(r / b) * c;
    f32* d = dst + (long)r * c;
    i32 i = 0;
    for (; i < c4; i += 4) wasm_v128_store(d + i, wasm_f32x4_mul(wasm_v128_load(s + i), k));
    for (; i < c; i++) d[i] = s[i] * factor;
  }
}

// y[o .. o+16) (and y1 for a second pixel) = Σ_c x[c] · w[c, o .. o+16) over one filter tap, added to the
// accumulators; the two pixels share the filter loads.
#define FWD_ACC16(X0, X1, WROW)                                                          \
  do {                                                                                   \
    const v128_t f0 = wasm_v128_load(WROW), f1 = wasm_v128_load((WROW) + 4);             \
    const v128_t f2 = wasm_v128_load((WROW) + 8), f3 = wasm_v128_load((WROW) + 12);      \
    a0 = madd(a0, X0, f0);                                                               \
    a1 = madd(a1, X0, f1);                                                               \
    a2 = madd(a2, X0, f2);                                                               \
    a3 = madd(a3, X0, f3);                                                               \
    b0 = madd(b0, X1, f0);                                                               \
    b1 = madd(b1, X1, f1);                                                               \
    b2 = madd(b2, X1, f2);                                                               \
    b3 = madd(b3, X1, f3);                                                               \
  } while (0)

static inline v128_t activate(v128_t v, i32 activation) {
  if (activation == 1) return wasm_f32x4_max(v, wasm_f32x4_splat(0));
  if (activation == 2) return wasm_f32x4_min(wasm_f32x4_max(v, wasm_f32x4_splat(0)), wasm_f32x4_splat(6));
  return v;
}

static inline f32 activate1(f32 v, i32 activation) {
  if (activation >= 1 && v < 0) v = 0;
  if (activation == 2 && v > 6) v = 6;
  return v;
}

// Conv2D forward, NHWC, dilation 1, with an optional bias (0 for none) and activation (0 linear, 1 relu,
// 2 relu6): y[n, oy, ox, o] = act(bias[o] + Σ_{kh, kw, c} x[n, oy·sh + kh − pt, ox·sw + kw − pl, c] · w[kh, kw, c, o])
// for the output rows r = n·oh + oy in [row_begin, row_end). Two output pixels at a time share the filter loads.
EXPORT(conv2d_forward)
void conv2d_forward(const f32* x, const f32* w, const f32* bias, f32* y, i32 h, i32 wd, i32 ci, i32 oh, i32 ow, i32 co,
                    i32 fh, i32 fw, i32 sh, i32 sw, i32 pt, i32 pl, i32 activation, i32 row_begin, i32 row_end) {
  const i32 co16 = co & ~15;
  for (i32 r = row_begin; r < row_end; r++) {
    const i32 n = r / oh;
    const i32 oy = r - n * oh;
    f32* yrow = y + (long)r * ow * co;
    for (i32 ox = 0; ox < ow; ox += 2) {
      const i32 pair = ox + 1 < ow;
      f32* out0 = yrow + (long)ox * co;
      f32* out1 = out0 + co;
      // Sixteen output channels at a time for both pixels (8 accumulators), the rest one at a time.
      for (i32 o = 0; o < co16; o += 16) {
        v128_t a0 = bias ? wasm_v128_load(bias + o) : wasm_f32x4_splat(0);
        v128_t a1 = bias ? wasm_v128_load(bias + o + 4) : wasm_f32x4_splat(0);
        v128_t a2 = bias ? wasm_v128_load(bias + o + 8) : wasm_f32x4_splat(0);
        v128_t a3 = bias ? wasm_v128_load(bias + o + 12) : wasm_f32x4_splat(0);
        v128_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        for (i32 kh = 0; kh < fh; kh++) {
          const i32 iy = oy * sh + kh - pt;
          if (iy < 0 || iy >= h) continue;
          const f32* xrow = x + ((long)n * h + iy) * wd * ci;
          for (i32 kw = 0; kw < fw; kw++) {
            const i32 ix0 = ox * sw + kw - pl;
            const i32 ix1 = ix0 + sw;
            const i32 in0 = ix0 >= 0 && ix0 < wd;
            const i32 in1 = pair && ix1 >= 0 && ix1 < wd;
            if (!in0 && !in1) continue;
            const f32* wtap = w + ((long)(kh * fw + kw) * ci) * co + o;
            const f32* p0 = xrow + (long)ix0 * ci;
            const f32* p1 = xrow + (long)ix1 * ci;
            if (in0 && in1) {
              for (i32 c = 0; c < ci; c++) {
                const v128_t x0 = wasm_v128_load32_splat(p0 + c), x1 = wasm_v128_load32_splat(p1 + c);
                FWD_ACC16(x0, x1, wtap + (long)c * co);
              }
            } else {
              // One pixel's window leaves the image here: the other pixel's accumulators get zeros.
              const f32* p = in0 ? p0 : p1;
              const v128_t zero = wasm_f32x4_splat(0);
              for (i32 c = 0; c < ci; c++) {
                const v128_t xv = wasm_v128_load32_splat(p + c);
                if (in0) FWD_ACC16(xv, zero, wtap + (long)c * co);
                else FWD_ACC16(zero, xv, wtap + (long)c * co);
              }
            }
          }
        }
        wasm_v128_store(out0 + o, activate(a0, activation));
        wasm_v128_store(out0 + o + 4, activate(a1, activation));
        wasm_v128_store(out0 + o + 8, activate(a2, activation));
        wasm_v128_store(out0 + o + 12, activate(a3, activation));
        if (pair) {
          wasm_v128_store(out1 + o, activate(b0, activation));
          wasm_v128_store(out1 + o + 4, activate(b1, activation));
          wasm_v128_store(out1 + o + 8, activate(b2, activation));
          wasm_v128_store(out1 + o + 12, activate(b3, activation));
        }
      }
      for (i32 o = co16; o < co; o++) {
        for (i32 p = 0; p < (pair ? 2 : 1); p++) {
          f32 s = bias ? bias[o] : 0;
          for (i32 kh = 0; kh < fh; kh++) {
            const i32 iy = oy * sh + kh - pt;
            if (iy < 0 || iy >= h) continue;
            for (i32 kw = 0; kw < fw; kw++) {
              const i32 ix = (ox + p) * sw + kw - pl;
              if (ix < 0 || ix >= wd) continue;
              const f32* xp = x + (((long)n * h + iy) * wd + ix) * ci;
              const f32* wp = w + ((long)(kh * fw + kw) * ci) * co + o;
              for (i32 c = 0; c < ci; c++) s += xp[c] * wp[(long)c * co];
            }
          }
          (p ? out1 : out0)[o] = activate1(s, activation);
        }
      }
    }
  }
}

// Sums over a middle axis: x viewed as [a, b, c], out[i, :] = factor · Σ_j x[i, j, :] for the groups i in
// [row_begin, row_end) (e.g. global average pooling: a = batch, b = height·width). `factor_bits` as in
// broadcast_middle.
EXPORT(middle_sums)
void middle_sums(const f32* x, f32* out, i32 b, i32 c, i32 factor_bits, i32 row_begin, i32 row_end) {
  const f32 factor = float_from_bits(factor_bits);
  const v128_t k = wasm_f32x4_splat(factor);
  for (i32 i = row_begin; i < row_end; i++) {
    const f32* group = x + (long)i * b * c;
    f32* o = out + (long)i * c;
    i32 q = 0;
    for (; q + 16 <= c; q += 16) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      const f32* p = group + q;
      for (i32 j = 0; j < b; j++, p += c) {
        a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
        a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
        a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
        a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
      }
      wasm_v128_store(o + q, wasm_f32x4_mul(a0, k));
      wasm_v128_store(o + q + 4, wasm_f32x4_mul(a1, k));
      wasm_v128_store(o + q + 8, wasm_f32x4_mul(a2, k));
      wasm_v128_store(o + q + 12, wasm_f32x4_mul(a3, k));
    }
    for (; q < c; q++) {
      f32 s = 0;
      const f32* p = group + q;
      for (i32 j = 0; j < b; j++, p += c) s += *p;
      o[q] = s * factor;
    }
  }
}

// ReLU gradient: dx = dy where x > 0, else 0, over the elements [row_begin·block, min(row_end·block, count)).
EXPORT(relu_grad)
void relu_grad(const f32* x, const f32* dy, f32* dx, i32 count, i32 block, i32 row_begin, i32 row_end) {
  long begin = (long)row_begin * block;
  long end = (long)row_end * block;
  if (end > count) end = count;
  long i = begin;
  const v128_t zero = wasm_f32x4_splat(0);
  for (; i + 4 <= end; i += 4) {
    const v128_t positive = wasm_f32x4_gt(wasm_v128_load(x + i), zero);
    wasm_v128_store(dx + i, wasm_v128_and(wasm_v128_load(dy + i), positive));
  }
  for (; i < end; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

// The two per-channel sums of the batch-norm gradient in one pass over x viewed as [rows, c]:
// sums[k] += Σ_r dy[r, k] and sums[c + k] += Σ_r dy[r, k] · (x[r, k] − mean[k]), rows in [row_begin, row_end).
EXPORT(batchnorm_grad_sums)
void batchnorm_grad_sums(const f32* dy, const f32* x, const f32* mean, f32* sums, i32 c, i32 row_begin, i32 row_end) {
  i32 k = 0;
  for (; k + 16 <= c; k += 16) {
    const v128_t m0 = wasm_v128_load(mean + k), m1 = wasm_v128_load(mean + k + 4);
    const v128_t m2 = wasm_v128_load(mean + k + 8), m3 = wasm_v128_load(mean + k + 12);
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    for (i32 r = row_begin; r < row_end; r++) {
      const f32* g = dy + (long)r * c + k;
      const f32* p = x + (long)r * c + k;
      const v128_t g0 = wasm_v128_load(g), g1 = wasm_v128_load(g + 4), g2 = wasm_v128_load(g + 8), g3 = wasm_v128_load(g + 12);
      s0 = wasm_f32x4_add(s0, g0);
      s1 = wasm_f32x4_add(s1, g1);
      s2 = wasm_f32x4_add(s2, g2);
      s3 = wasm_f32x4_add(s3, g3);
      t0 = madd(t0, g0, wasm_f32x4_sub(wasm_v128_load(p), m0));
      t1 = madd(t1, g1, wasm_f32x4_sub(wasm_v128_load(p + 4), m1));
      t2 = madd(t2, g2, wasm_f32x4_sub(wasm_v128_load(p + 8), m2));
      t3 = madd(t3, g3, wasm_f32x4_sub(wasm_v128_load(p + 12), m3));
    }
    add_store(sums + k, s0);
    add_store(sums + k + 4, s1);
    add_store(sums + k + 8, s2);
    add_store(sums + k + 12, s3);
    add_store(sums + c + k, t0);
    add_store(sums + c + k + 4, t1);
    add_store(sums + c + k + 8, t2);
    add_store(sums + c + k + 12, t3);
  }
  for (; k + 8 <= c; k += 8) {
    const v128_t m0 = wasm_v128_load(mean + k), m1 = wasm_v128_load(mean + k + 4);
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, t0 = s0, t1 = s0;
    for (i32 r = row_begin; r < row_end; r++) {
      const f32* g = dy + (long)r * c + k;
      const f32* p = x + (long)r * c + k;
      const v128_t g0 = wasm_v128_load(g), g1 = wasm_v128_load(g + 4);
      s0 = wasm_f32x4_add(s0, g0);
      s1 = wasm_f32x4_add(s1, g1);
      t0 = madd(t0, g0, wasm_f32x4_sub(wasm_v128_load(p), m0));
      t1 = madd(t1, g1, wasm_f32x4_sub(wasm_v128_load(p + 4), m1));
    }
    add_store(sums + k, s0);
    add_store(sums + k + 4, s1);
    add_store(sums + c + k, t0);
    add_store(sums + c + k + 4, t1);
  }
  for (; k < c; k++) {
    f32 s = 0, t = 0;
    for (i32 r = row_begin; r < row_end; r++) {
      const f32 g = dy[(long)r * c + k];
      s += g;
      t += g * (x[(long)r * c + k] - mean[k]);
    }
    sums[k] += s;
    sums[c + k] += t;
  }
}

// Two per-channel affine maps summed, for the batch-norm input gradient: y[r, k] = a[r, k]·ka[k] + b[r, k]·kb[k] + kc[k]
// over x viewed as [rows, c], rows in [row_begin, row_end).
EXPORT(channel_affine2)
void channel_affine2(const f32* a, const f32* b, const f32* ka, const f32* kb, const f32* kc, f32* y, i32 c, i32 row_begin,
                     i32 row_end) {
  const i32 c4 = c & ~3;
  for (i32 r = row_begin; r < row_end; r++) {
    const f32* p = a + (long)r * c;
    const f32* q = b + (long)r * c;
    f32* out = y + (long)r * c;
    i32 k = 0;
    for (; k < c4; k += 4) {
      const v128_t v = madd(wasm_f32x4_mul(wasm_v128_load(p + k), wasm_v128_load(ka + k)), wasm_v128_load(q + k), wasm_v128_load(kb + k));
      wasm_v128_store(out + k, wasm_f32x4_add(v, wasm_v128_load(kc + k)));
    }
    for (; k < c; k++) out[k] = p[k] * ka[k] + q[k] * kb[k] + kc[k];
  }
}
