/*
 * Native CPU kernels for the JS training step of convolutional networks (lib/train/fused-steps.ts), loaded as a
 * Node-API addon that native.ts compiles on first use with the machine's C compiler (-O3 -march=native -fopenmp).
 *
 * Why native: a small CNN's training step is ~0.6 G multiply-adds per batch of 32 at 64×64. WebAssembly SIMD is
 * 128 bits wide and has no fused multiply-add, so the same register-blocked loop runs about 3× slower there than
 * with the AVX2/AVX-512 FMA units that PyTorch's oneDNN uses. Where no compiler is found the training step falls
 * back to TensorFlow.js ops (nothing here is required).
 *
 * Layout: tensors are NHWC float32, convolution kernels [kh, kw, cin, cout] (tfjs-layers' Conv2D). Each image is
 * first copied into a zero-padded buffer, so that the convolutions read their windows without bounds checks or an
 * im2col copy: forward, MR output pixels × 16–32 channels accumulate in registers over the kernel's taps; the filter
 * gradient, MR taps × 16–32 channels accumulate over the image's pixels; the input gradient is dY·Wᵀ per tile of
 * CHUNK pixels, scattered into the padded buffer (col2im). The loops run over 16-float vectors (GCC vector
 * extensions: one AVX-512 register, two AVX2 ones), one image per OpenMP thread (a thread owns its images' input
 * gradient and sums its own filter gradient).
 *
 * Gradients of inputs are accumulated (dx +=), as the step's other ops do; weight gradients are overwritten.
 */
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_thread_num(void) { return 0; }
static int omp_get_max_threads(void) { return 1; }
#endif

typedef float vf __attribute__((vector_size(64)));
#define VW 16
#ifdef __AVX512F__
#define MR 8
#else
#define MR 4
#endif
/* Pixels per tile of the input gradient's dY·Wᵀ: a multiple of MR. */
#define CHUNK 64

static inline vf vload(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline long round_up(long x, long m) { return (x + m - 1) / m * m; }
static inline long min_long(long a, long b) { return a < b ? a : b; }

static float *alloc_floats(long count) { return aligned_alloc(64, (size_t)round_up(count * (long)sizeof(float), 64)); }

/*
 * C[MR × nv·16] (+)= A[MR × kc]·B[kc × nv·16]; A(i, k) = a[i·ars + k·acs], B row-major with row stride ldb.
 * nv is 1 or 2 and a constant at each call, so the accumulators stay in registers.
 */
static inline __attribute__((always_inline)) void tile(int nv, long kc, const float *a, long ars, long acs, const float *b, long ldb, float *c, long ldc, int accumulate) {
  vf acc0[MR], acc1[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    acc0[r] = accumulate ? vload(c + r * ldc) : (vf){0};
    acc1[r] = accumulate && nv > 1 ? vload(c + r * ldc + VW) : (vf){0};
  }
  for (long k = 0; k < kc; k++) {
    const vf b0 = vload(b + k * ldb);
    const vf b1 = nv > 1 ? vload(b + k * ldb + VW) : (vf){0};
    const float *ak = a + k * acs;
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const float av = ak[r * ars];
      acc0[r] += av * b0;
      if (nv > 1) acc1[r] += av * b1;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    vstore(c + r * ldc, acc0[r]);
    if (nv > 1) vstore(c + r * ldc + VW, acc1[r]);
  }
}

/* C[m × n] (+)= A·B for m a multiple of MR and n a multiple of 16. */
static void gemm(long m, long n, long kc, const float *a, long ars, long acs, const float *b, long ldb, float *c, long ldc, int accumulate) {
  for (long i = 0; i < m; i += MR) {
    long j = 0;
    for (; j + 2 * VW <= n; j += 2 * VW) tile(2, kc, a + i * ars, ars, acs, b + j, ldb, c + i * ldc + j, ldc, accumulate);
    if (j < n) tile(1, kc, a + i * ars, ars, acs, b + j, ldb, c + i * ldc + j, ldc, accumulate);
  }
}

typedef struct {
  long n, h, w, cin, oh, ow, cout, kh, kw, sh, sw, pt, pl, dh, dw, relu;
} ConvDims;

/*
 * One image's input, zero-padded so that every window of every output pixel — including the pixels up to the next
 * multiple of MR in a row, computed and dropped — lies inside it: rows hp, columns wp.
 */
typedef struct {
  long hp, wp, owr;
} Padded;

static Padded padded_size(const ConvDims *d) {
  Padded p;
  p.owr = round_up(d->ow, MR);
  p.hp = (d->oh - 1) * d->sh + (d->kh - 1) * d->dh + 1;
  p.wp = (p.owr - 1) * d->sw + (d->kw - 1) * d->dw + 1;
  return p;
}

static void pad_image(const ConvDims *d, const Padded *p, const float *x, float *xp) {
  for (long yy = 0; yy < p->hp; yy++) {
    const long iy = yy - d->pt;
    float *row = xp + yy * p->wp * d->cin;
    if (iy < 0 || iy >= d->h) {
      memset(row, 0, (size_t)(p->wp * d->cin) * sizeof(float));
      continue;
    }
    for (long xx = 0; xx < p->wp; xx++) {
      const long ix = xx - d->pl;
      float *dst = row + xx * d->cin;
      if (ix < 0 || ix >= d->w) {
        for (long c = 0; c < d->cin; c++) dst[c] = 0;
      } else {
        const float *src = x + (iy * d->w + ix) * d->cin;
        for (long c = 0; c < d->cin; c++) dst[c] = src[c];
      }
    }
  }
}

/* Offset in a padded image of kernel tap k = (ky, kx, ci) from its window's corner. */
static long *tap_offsets(const ConvDims *d, const Padded *p, long count) {
  long *off = calloc((size_t)count, sizeof(long));
  for (long ky = 0; ky < d->kh; ky++)
    for (long kx = 0; kx < d->kw; kx++)
      for (long ci = 0; ci < d->cin; ci++) off[(ky * d->kw + kx) * d->cin + ci] = (ky * d->dh * p->wp + kx * d->dw) * d->cin + ci;
  return off;
}

typedef int32_t vi __attribute__((vector_size(64)));

/* Outputs of MR pixels of one row (from column ox0) × nv·16 channels (from cb): direct convolution on the padded image. */
static inline __attribute__((always_inline)) void conv_tile(int nv, const ConvDims *d, const Padded *p, const float *xp, const float *wp, const float *biasp, long cop, long oy, long ox0, long cb, float *y, long img) {
  vf acc0[MR], acc1[MR];
  const vf bias0 = vload(biasp + cb), bias1 = nv > 1 ? vload(biasp + cb + VW) : (vf){0};
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    acc0[r] = bias0;
    acc1[r] = bias1;
  }
  const long step = d->sw * d->cin;
  for (long ky = 0; ky < d->kh; ky++) {
    for (long kx = 0; kx < d->kw; kx++) {
      const float *a = xp + ((oy * d->sh + ky * d->dh) * p->wp + ox0 * d->sw + kx * d->dw) * d->cin;
      const float *b = wp + (ky * d->kw + kx) * d->cin * cop + cb;
      for (long ci = 0; ci < d->cin; ci++) {
        const vf b0 = vload(b + ci * cop);
        const vf b1 = nv > 1 ? vload(b + ci * cop + VW) : (vf){0};
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
          const float av = a[r * step + ci];
          acc0[r] += av * b0;
          if (nv > 1) acc1[r] += av * b1;
        }
      }
    }
  }
  const long cout = d->cout;
  for (int r = 0; r < MR && ox0 + r < d->ow; r++) {
    float *out = y + ((img * d->oh + oy) * d->ow + ox0 + r) * cout + cb;
    for (int v = 0; v < nv; v++) {
      vf value = v == 0 ? acc0[r] : acc1[r];
      if (d->relu) value = (vf)((vi)value & (value > 0));
      const long left = cout - cb - v * VW;
      if (left >= VW) vstore(out + v * VW, value);
      else {
        float lanes[VW];
        vstore(lanes, value);
        for (long e = 0; e < left; e++) out[v * VW + e] = lanes[e];
      }
    }
  }
}

/* y = act(x ⊛ w + b), one image per thread. */
static void conv_forward(const ConvDims *d, const float *x, const float *w, const float *bias, float *y) {
  const long K = d->kh * d->kw * d->cin, cop = round_up(d->cout, VW);
  const Padded p = padded_size(d);
  float *wp = alloc_floats(K * cop), *biasp = alloc_floats(cop);
  for (long k = 0; k < K; k++)
    for (long co = 0; co < cop; co++) wp[k * cop + co] = co < d->cout ? w[k * d->cout + co] : 0;
  for (long co = 0; co < cop; co++) biasp[co] = bias && co < d->cout ? bias[co] : 0;
#pragma omp parallel
  {
    float *xp = alloc_floats(p.hp * p.wp * d->cin);
#pragma omp for schedule(static)
    for (long img = 0; img < d->n; img++) {
      pad_image(d, &p, x + img * d->h * d->w * d->cin, xp);
      for (long oy = 0; oy < d->oh; oy++) {
        for (long ox0 = 0; ox0 < p.owr; ox0 += MR) {
          long cb = 0;
          for (; cb + 2 * VW <= cop; cb += 2 * VW) conv_tile(2, d, &p, xp, wp, biasp, cop, oy, ox0, cb, y, img);
          if (cb < cop) conv_tile(1, d, &p, xp, wp, biasp, cop, oy, ox0, cb, y, img);
        }
      }
    }
    free(xp);
  }
  free(wp);
  free(biasp);
}

/* acc[MR taps from k0][nv·16 channels from cb] += Σ over the image's pixels of x(pixel + tap) · dY'(pixel). */
static inline __attribute__((always_inline)) void filter_grad_tile(int nv, const ConvDims *d, const Padded *p, const float *xp, const float *dyp, long cop, const long *off, long cb, float *acc, long ldc) {
  vf acc0[MR], acc1[MR];
  long o[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    acc0[r] = vload(acc + r * ldc);
    acc1[r] = nv > 1 ? vload(acc + r * ldc + VW) : (vf){0};
    o[r] = off[r];
  }
  for (long oy = 0; oy < d->oh; oy++) {
    const float *xrow = xp + oy * d->sh * p->wp * d->cin;
    const float *grow = dyp + oy * d->ow * cop + cb;
    for (long ox = 0; ox < d->ow; ox++) {
      const float *xb = xrow + ox * d->sw * d->cin;
      const vf g0 = vload(grow + ox * cop);
      const vf g1 = nv > 1 ? vload(grow + ox * cop + VW) : (vf){0};
#pragma GCC unroll 8
      for (int r = 0; r < MR; r++) {
        const float av = xb[o[r]];
        acc0[r] += av * g0;
        if (nv > 1) acc1[r] += av * g1;
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    vstore(acc + r * ldc, acc0[r]);
    if (nv > 1) vstore(acc + r * ldc + VW, acc1[r]);
  }
}

/*
 * dw = Σ x ⋆ dY', db = Σ dY', dx += the transposed convolution of dY' (when dx is given), where dY' is dy masked
 * by y > 0 for a ReLU convolution. One image per thread: each sums its own filter gradient and owns its images' dx.
 */
static void conv_backward(const ConvDims *d, const float *x, const float *w, const float *y, const float *dy, float *dw, float *db, float *dx) {
  const long K = d->kh * d->kw * d->cin, kr = round_up(K, MR), cop = round_up(d->cout, VW), kp = round_up(K, VW);
  const long per_image = d->oh * d->ow, chunks = (per_image + CHUNK - 1) / CHUNK;
  const Padded p = padded_size(d);
  const int threads = omp_get_max_threads();
  float *sums = calloc((size_t)(threads * (kr + 1) * cop), sizeof(float));
  long *off = tap_offsets(d, &p, kr);
  float *wt = NULL;
  if (dx) {
    wt = alloc_floats(cop * kp);
    for (long co = 0; co < cop; co++)
      for (long k = 0; k < kp; k++) wt[co * kp + k] = co < d->cout && k < K ? w[k * d->cout + co] : 0;
  }
#pragma omp parallel
  {
    float *acc = sums + (long)omp_get_thread_num() * (kr + 1) * cop;
    float *bias_acc = acc + kr * cop;
    // dY' rows up to a multiple of MR past the image's last pixel: the last input-gradient tile reads them (zero).
    const long dyp_rows = round_up(per_image, MR);
    float *xp = alloc_floats(p.hp * p.wp * d->cin), *dyp = alloc_floats(dyp_rows * cop);
    memset(dyp + per_image * cop, 0, (size_t)((dyp_rows - per_image) * cop) * sizeof(float));
    float *dxp = dx ? alloc_floats(p.hp * p.wp * d->cin) : NULL, *dcol = dx ? alloc_floats(CHUNK * kp) : NULL;
#pragma omp for schedule(static)
    for (long img = 0; img < d->n; img++) {
      pad_image(d, &p, x + img * d->h * d->w * d->cin, xp);
      const float *dyi = dy + img * per_image * d->cout, *yi = y + img * per_image * d->cout;
      for (long q = 0; q < per_image; q++) {
        float *g = dyp + q * cop;
        for (long co = 0; co < cop; co++) {
          const float value = co < d->cout && (!d->relu || yi[q * d->cout + co] > 0) ? dyi[q * d->cout + co] : 0;
          g[co] = value;
          bias_acc[co] += value;
        }
      }
      for (long k0 = 0; k0 < kr; k0 += MR) {
        long cb = 0;
        for (; cb + 2 * VW <= cop; cb += 2 * VW) filter_grad_tile(2, d, &p, xp, dyp, cop, off + k0, cb, acc + k0 * cop + cb, cop);
        if (cb < cop) filter_grad_tile(1, d, &p, xp, dyp, cop, off + k0, cb, acc + k0 * cop + cb, cop);
      }
      if (!dx) continue;
      memset(dxp, 0, (size_t)(p.hp * p.wp * d->cin) * sizeof(float));
      for (long c = 0; c < chunks; c++) {
        const long q0 = c * CHUNK, rows = min_long(CHUNK, per_image - q0);
        gemm(round_up(rows, MR), kp, cop, dyp + q0 * cop, cop, 1, wt, kp, dcol, kp, 0);
        for (long r = 0; r < rows; r++) {
          const long oy = (q0 + r) / d->ow, ox = (q0 + r) % d->ow;
          float *base = dxp + (oy * d->sh * p.wp + ox * d->sw) * d->cin;
          const float *src = dcol + r * kp;
          for (long ky = 0; ky < d->kh; ky++) {
            for (long kx = 0; kx < d->kw; kx++) {
              float *dst = base + (ky * d->dh * p.wp + kx * d->dw) * d->cin;
              const float *from = src + (ky * d->kw + kx) * d->cin;
              for (long ci = 0; ci < d->cin; ci++) dst[ci] += from[ci];
            }
          }
        }
      }
      float *dxi = dx + img * d->h * d->w * d->cin;
      for (long iy = 0; iy < d->h; iy++) {
        const long yy = iy + d->pt;
        if (yy >= p.hp) break;
        for (long ix = 0; ix < d->w; ix++) {
          const long xx = ix + d->pl;
          if (xx >= p.wp) break;
          const float *src = dxp + (yy * p.wp + xx) * d->cin;
          float *dst = dxi + (iy * d->w + ix) * d->cin;
          for (long ci = 0; ci < d->cin; ci++) dst[ci] += src[ci];
        }
      }
    }
    free(xp);
    free(dyp);
    free(dxp);
    free(dcol);
  }
  for (long k = 0; k <= kr; k++) {
    if (k >= K && k < kr) continue;
    for (long co = 0; co < d->cout; co++) {
      float s = 0;
      for (int t = 0; t < threads; t++) s += sums[(t * (kr + 1) + k) * cop + co];
      if (k < K) dw[k * d->cout + co] = s;
      else if (db) db[co] = s;
    }
  }
  free(sums);
  free(off);
  free(wt);
}

typedef struct {
  long n, h, w, c, oh, ow, ph, pw, sh, sw, pt, pl;
} PoolDims;

/* y = max over each window (padding excluded); arg = the input index it came from (the first maximum). */
static void maxpool_forward(const PoolDims *d, const float *x, float *y, int32_t *arg) {
#pragma omp parallel for schedule(static)
  for (long img = 0; img < d->n; img++) {
    for (long oy = 0; oy < d->oh; oy++) {
      for (long ox = 0; ox < d->ow; ox++) {
        float *yr = y + ((img * d->oh + oy) * d->ow + ox) * d->c;
        int32_t *ar = arg + ((img * d->oh + oy) * d->ow + ox) * d->c;
        int first = 1;
        for (long py = 0; py < d->ph; py++) {
          const long iy = oy * d->sh + py - d->pt;
          if (iy < 0 || iy >= d->h) continue;
          for (long px = 0; px < d->pw; px++) {
            const long ix = ox * d->sw + px - d->pl;
            if (ix < 0 || ix >= d->w) continue;
            const long base = ((img * d->h + iy) * d->w + ix) * d->c;
            const float *xr = x + base;
            if (first) {
              for (long ch = 0; ch < d->c; ch++) {
                yr[ch] = xr[ch];
                ar[ch] = (int32_t)(base + ch);
              }
              first = 0;
            } else {
              for (long ch = 0; ch < d->c; ch++) {
                if (xr[ch] > yr[ch]) {
                  yr[ch] = xr[ch];
                  ar[ch] = (int32_t)(base + ch);
                }
              }
            }
          }
        }
      }
    }
  }
}

/* dx[arg] += dy, one image per thread (a window's argmax lies in its own image). */
static void maxpool_backward(long n, long per_image, const float *dy, const int32_t *arg, float *dx) {
#pragma omp parallel for schedule(static)
  for (long img = 0; img < n; img++)
    for (long e = img * per_image; e < (img + 1) * per_image; e++) dx[arg[e]] += dy[e];
}

/* y[img, c] = mean over the image's pixels. */
static void gap_forward(long n, long pixels, long c, const float *x, float *y) {
#pragma omp parallel for schedule(static)
  for (long img = 0; img < n; img++) {
    float *yr = y + img * c;
    for (long ch = 0; ch < c; ch++) yr[ch] = 0;
    for (long p = 0; p < pixels; p++) {
      const float *xr = x + (img * pixels + p) * c;
      for (long ch = 0; ch < c; ch++) yr[ch] += xr[ch];
    }
    for (long ch = 0; ch < c; ch++) yr[ch] /= (float)pixels;
  }
}

static void gap_backward(long n, long pixels, long c, const float *dy, float *dx) {
#pragma omp parallel for schedule(static)
  for (long img = 0; img < n; img++) {
    const float *g = dy + img * c;
    for (long p = 0; p < pixels; p++) {
      float *dr = dx + (img * pixels + p) * c;
      for (long ch = 0; ch < c; ch++) dr[ch] += g[ch] / (float)pixels;
    }
  }
}

/*
 * out[ch] (= 0 first) += Σ_r f(x[r, ch]) in float64, deterministically: each thread sums a fixed block of rows, the
 * blocks are added in thread order (an OpenMP reduction clause may combine them in any order).
 */
#define CHANNEL_SUMS(rows, c, out, term)                                                \
  do {                                                                                  \
    const int threads_ = omp_get_max_threads();                                         \
    double *parts_ = calloc((size_t)(threads_ * (c)), sizeof(double));                  \
    _Pragma("omp parallel") {                                                           \
      double *part_ = parts_ + (long)omp_get_thread_num() * (c);                        \
      _Pragma("omp for schedule(static)") for (long r = 0; r < (rows); r++) {           \
        for (long ch = 0; ch < (c); ch++) {                                             \
          const long e = r * (c) + ch;                                                  \
          (void)e;                                                                      \
          part_[ch] += (term);                                                          \
        }                                                                               \
      }                                                                                 \
    }                                                                                   \
    for (long ch = 0; ch < (c); ch++) {                                                 \
      double total_ = 0;                                                                \
      for (int t_ = 0; t_ < threads_; t_++) total_ += parts_[(long)t_ * (c) + ch];      \
      (out)[ch] = total_;                                                               \
    }                                                                                   \
    free(parts_);                                                                       \
  } while (0)

/*
 * Batch normalisation in training over [rows, c] (channels last): the batch mean and biased variance per channel
 * (summed in float64 over float32 differences, as the JS step does for rank-2 inputs), xhat and y = γ·xhat + β,
 * and tfjs-layers' moving averages m ← m − (m − statistic)·(1 − momentum).
 */
static void batchnorm_forward(long rows, long c, const float *x, float *y, float *xhat, double *inv_std, const float *gamma, const float *beta, float *moving_mean, float *moving_variance, double epsilon, float decay) {
  double *sum = malloc((size_t)c * sizeof(double)), *sq = malloc((size_t)c * sizeof(double));
  float *mean = malloc((size_t)c * sizeof(float));
  CHANNEL_SUMS(rows, c, sum, (double)x[e]);
  for (long ch = 0; ch < c; ch++) mean[ch] = (float)(sum[ch] / (double)rows);
  CHANNEL_SUMS(rows, c, sq, (double)((x[e] - mean[ch]) * (x[e] - mean[ch])));
  for (long ch = 0; ch < c; ch++) {
    const float variance = (float)(sq[ch] / (double)rows);
    inv_std[ch] = 1.0 / sqrt((double)variance + epsilon);
    moving_mean[ch] = moving_mean[ch] - (moving_mean[ch] - mean[ch]) * decay;
    moving_variance[ch] = moving_variance[ch] - (moving_variance[ch] - variance) * decay;
  }
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; r++) {
    for (long ch = 0; ch < c; ch++) {
      const long e = r * c + ch;
      const double h = ((double)x[e] - (double)mean[ch]) * inv_std[ch];
      xhat[e] = (float)h;
      y[e] = (float)((gamma ? (double)gamma[ch] : 1.0) * h + (beta ? (double)beta[ch] : 0.0));
    }
  }
  free(sum);
  free(sq);
  free(mean);
}

/* dγ = Σ dy·xhat, dβ = Σ dy, dx += γ·invStd/n·(n·dy − Σdy − xhat·Σ dy·xhat). */
static void batchnorm_backward(long rows, long c, const float *dy, const float *xhat, const double *inv_std, const float *gamma, float *dgamma, float *dbeta, float *dx) {
  double *sum_dy = malloc((size_t)c * sizeof(double)), *sum_dyx = malloc((size_t)c * sizeof(double));
  CHANNEL_SUMS(rows, c, sum_dy, (double)dy[e]);
  CHANNEL_SUMS(rows, c, sum_dyx, (double)dy[e] * (double)xhat[e]);
  for (long ch = 0; ch < c; ch++) {
    if (dgamma) dgamma[ch] = (float)sum_dyx[ch];
    if (dbeta) dbeta[ch] = (float)sum_dy[ch];
  }
  if (dx) {
    const double n = (double)rows;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
      for (long ch = 0; ch < c; ch++) {
        const long e = r * c + ch;
        const double scale = (gamma ? (double)gamma[ch] : 1.0) * inv_std[ch] / n;
        dx[e] += (float)(scale * (n * dy[e] - sum_dy[ch] - xhat[e] * sum_dyx[ch]));
      }
    }
  }
  free(sum_dy);
  free(sum_dyx);
}

static void relu_forward(long size, const float *x, float *y) {
#pragma omp parallel for schedule(static)
  for (long e = 0; e < size; e++) y[e] = x[e] > 0 ? x[e] : 0;
}

static void relu_backward(long size, const float *x, const float *dy, float *dx) {
#pragma omp parallel for schedule(static)
  for (long e = 0; e < size; e++) dx[e] += x[e] > 0 ? dy[e] : 0;
}

static void fill_zero(long size, float *x) {
#pragma omp parallel for schedule(static)
  for (long e = 0; e < size; e++) x[e] = 0;
}

/* ---- Node-API glue: arguments are typed arrays (null where optional) and numbers; lengths are checked. ---- */

typedef struct {
  napi_env env;
  napi_value args[12];
  size_t argc;
  const char *name;
  int failed;
} Call;

static int fail(Call *call, const char *message) {
  if (!call->failed) {
    char text[200];
    snprintf(text, sizeof text, "train-kernels %s: %s", call->name, message);
    napi_throw_error(call->env, NULL, text);
  }
  call->failed = 1;
  return 0;
}

static void *typed(Call *call, size_t i, napi_typedarray_type want, long min_length, int optional) {
  if (call->failed) return NULL;
  if (i >= call->argc) return fail(call, "missing argument"), NULL;
  napi_valuetype kind;
  napi_typeof(call->env, call->args[i], &kind);
  if (kind == napi_null || kind == napi_undefined) {
    if (!optional) fail(call, "a required array is null");
    return NULL;
  }
  bool is_typed = false;
  napi_is_typedarray(call->env, call->args[i], &is_typed);
  if (!is_typed) return fail(call, "expected a typed array"), NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_get_typedarray_info(call->env, call->args[i], &type, &length, &data, NULL, NULL);
  if (type != want) return fail(call, "typed array of the wrong type"), NULL;
  if ((long)length < min_length) {
    char text[120];
    snprintf(text, sizeof text, "argument %zu has %zu elements, needs %ld", i, length, min_length);
    return fail(call, text), NULL;
  }
  return data;
}

static double number(Call *call, size_t i) {
  double v = 0;
  if (call->failed) return 0;
  if (i >= call->argc || napi_get_value_double(call->env, call->args[i], &v) != napi_ok) fail(call, "expected a number");
  return v;
}

static Call begin(napi_env env, napi_callback_info info, const char *name) {
  Call call = {.env = env, .argc = 12, .name = name, .failed = 0};
  napi_get_cb_info(env, info, &call.argc, call.args, NULL, NULL);
  return call;
}

/* dims: n, h, w, cin, oh, ow, cout, kh, kw, sh, sw, pt, pl, dh, dw, relu. */
static int conv_dims(Call *call, size_t i, ConvDims *d) {
  const int32_t *v = typed(call, i, napi_int32_array, 16, 0);
  if (!v) return 0;
  *d = (ConvDims){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
  if (d->n < 0 || d->h < 1 || d->w < 1 || d->cin < 1 || d->oh < 1 || d->ow < 1 || d->cout < 1 || d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1 || d->dh < 1 || d->dw < 1) return fail(call, "bad dimensions");
  return 1;
}

/* conv2dForward(x, w, bias | null, y, dims) */
static napi_value js_conv_forward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "conv2dForward");
  ConvDims d;
  if (!conv_dims(&call, 4, &d)) return NULL;
  const long K = d.kh * d.kw * d.cin;
  const float *x = typed(&call, 0, napi_float32_array, d.n * d.h * d.w * d.cin, 0);
  const float *w = typed(&call, 1, napi_float32_array, K * d.cout, 0);
  const float *b = typed(&call, 2, napi_float32_array, d.cout, 1);
  float *y = typed(&call, 3, napi_float32_array, d.n * d.oh * d.ow * d.cout, 0);
  if (call.failed) return NULL;
  conv_forward(&d, x, w, b, y);
  return NULL;
}

/* conv2dBackward(x, w, y, dy, dw, db | null, dx | null, dims) */
static napi_value js_conv_backward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "conv2dBackward");
  ConvDims d;
  if (!conv_dims(&call, 7, &d)) return NULL;
  const long K = d.kh * d.kw * d.cin, in_size = d.n * d.h * d.w * d.cin, out_size = d.n * d.oh * d.ow * d.cout;
  const float *x = typed(&call, 0, napi_float32_array, in_size, 0);
  const float *w = typed(&call, 1, napi_float32_array, K * d.cout, 0);
  const float *y = typed(&call, 2, napi_float32_array, out_size, 0);
  const float *dy = typed(&call, 3, napi_float32_array, out_size, 0);
  float *dw = typed(&call, 4, napi_float32_array, K * d.cout, 0);
  float *db = typed(&call, 5, napi_float32_array, d.cout, 1);
  float *dx = typed(&call, 6, napi_float32_array, in_size, 1);
  if (call.failed) return NULL;
  conv_backward(&d, x, w, y, dy, dw, db, dx);
  return NULL;
}

/* dims: n, h, w, c, oh, ow, ph, pw, sh, sw, pt, pl. */
static int pool_dims(Call *call, size_t i, PoolDims *d) {
  const int32_t *v = typed(call, i, napi_int32_array, 12, 0);
  if (!v) return 0;
  *d = (PoolDims){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
  if (d->n < 0 || d->h < 1 || d->w < 1 || d->c < 1 || d->oh < 1 || d->ow < 1 || d->ph < 1 || d->pw < 1 || d->sh < 1 || d->sw < 1) return fail(call, "bad dimensions");
  if (d->n * d->h * d->w * d->c > INT32_MAX) return fail(call, "input too large for int32 indices");
  return 1;
}

/* maxPoolForward(x, y, arg, dims) */
static napi_value js_maxpool_forward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "maxPoolForward");
  PoolDims d;
  if (!pool_dims(&call, 3, &d)) return NULL;
  const long out_size = d.n * d.oh * d.ow * d.c;
  const float *x = typed(&call, 0, napi_float32_array, d.n * d.h * d.w * d.c, 0);
  float *y = typed(&call, 1, napi_float32_array, out_size, 0);
  int32_t *arg = typed(&call, 2, napi_int32_array, out_size, 0);
  if (call.failed) return NULL;
  maxpool_forward(&d, x, y, arg);
  return NULL;
}

/* maxPoolBackward(dy, arg, dx, dims) */
static napi_value js_maxpool_backward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "maxPoolBackward");
  PoolDims d;
  if (!pool_dims(&call, 3, &d)) return NULL;
  const long per_image = d.oh * d.ow * d.c;
  const float *dy = typed(&call, 0, napi_float32_array, d.n * per_image, 0);
  const int32_t *arg = typed(&call, 1, napi_int32_array, d.n * per_image, 0);
  float *dx = typed(&call, 2, napi_float32_array, d.n * d.h * d.w * d.c, 0);
  if (call.failed) return NULL;
  maxpool_backward(d.n, per_image, dy, arg, dx);
  return NULL;
}

/* globalAvgPoolForward(x, y, n, pixels, c) / globalAvgPoolBackward(dy, dx, n, pixels, c) */
static napi_value js_gap(napi_env env, napi_callback_info info, int backward) {
  Call call = begin(env, info, backward ? "globalAvgPoolBackward" : "globalAvgPoolForward");
  const long n = (long)number(&call, 2), pixels = (long)number(&call, 3), c = (long)number(&call, 4);
  if (!call.failed && (n < 0 || pixels < 1 || c < 1)) fail(&call, "bad dimensions");
  const float *in = typed(&call, 0, napi_float32_array, backward ? n * c : n * pixels * c, 0);
  float *out = typed(&call, 1, napi_float32_array, backward ? n * pixels * c : n * c, 0);
  if (call.failed) return NULL;
  if (backward) gap_backward(n, pixels, c, in, out);
  else gap_forward(n, pixels, c, in, out);
  return NULL;
}
static napi_value js_gap_forward(napi_env env, napi_callback_info info) { return js_gap(env, info, 0); }
static napi_value js_gap_backward(napi_env env, napi_callback_info info) { return js_gap(env, info, 1); }

/* batchNormForward(x, y, xhat, invStd, gamma | null, beta | null, movingMean, movingVariance, rows, c, epsilon, momentum) */
static napi_value js_batchnorm_forward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "batchNormForward");
  const long rows = (long)number(&call, 8), c = (long)number(&call, 9);
  const double epsilon = number(&call, 10), momentum = number(&call, 11);
  if (!call.failed && (rows < 1 || c < 1)) fail(&call, "bad dimensions");
  const float *x = typed(&call, 0, napi_float32_array, rows * c, 0);
  float *y = typed(&call, 1, napi_float32_array, rows * c, 0);
  float *xhat = typed(&call, 2, napi_float32_array, rows * c, 0);
  double *inv_std = typed(&call, 3, napi_float64_array, c, 0);
  const float *gamma = typed(&call, 4, napi_float32_array, c, 1);
  const float *beta = typed(&call, 5, napi_float32_array, c, 1);
  float *mm = typed(&call, 6, napi_float32_array, c, 0);
  float *mv = typed(&call, 7, napi_float32_array, c, 0);
  if (call.failed) return NULL;
  batchnorm_forward(rows, c, x, y, xhat, inv_std, gamma, beta, mm, mv, epsilon, (float)(1 - momentum));
  return NULL;
}

/* batchNormBackward(dy, xhat, invStd, gamma | null, dgamma | null, dbeta | null, dx | null, rows, c) */
static napi_value js_batchnorm_backward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "batchNormBackward");
  const long rows = (long)number(&call, 7), c = (long)number(&call, 8);
  if (!call.failed && (rows < 1 || c < 1)) fail(&call, "bad dimensions");
  const float *dy = typed(&call, 0, napi_float32_array, rows * c, 0);
  const float *xhat = typed(&call, 1, napi_float32_array, rows * c, 0);
  const double *inv_std = typed(&call, 2, napi_float64_array, c, 0);
  const float *gamma = typed(&call, 3, napi_float32_array, c, 1);
  float *dgamma = typed(&call, 4, napi_float32_array, c, 1);
  float *dbeta = typed(&call, 5, napi_float32_array, c, 1);
  float *dx = typed(&call, 6, napi_float32_array, rows * c, 1);
  if (call.failed) return NULL;
  batchnorm_backward(rows, c, dy, xhat, inv_std, gamma, dgamma, dbeta, dx);
  return NULL;
}

/* reluForward(x, y, size) / reluBackward(x, dy, dx, size) / fillZero(x, size) */
static napi_value js_relu_forward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "reluForward");
  const long size = (long)number(&call, 2);
  const float *x = typed(&call, 0, napi_float32_array, size, 0);
  float *y = typed(&call, 1, napi_float32_array, size, 0);
  if (call.failed) return NULL;
  relu_forward(size, x, y);
  return NULL;
}
static napi_value js_relu_backward(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "reluBackward");
  const long size = (long)number(&call, 3);
  const float *x = typed(&call, 0, napi_float32_array, size, 0);
  const float *dy = typed(&call, 1, napi_float32_array, size, 0);
  float *dx = typed(&call, 2, napi_float32_array, size, 0);
  if (call.failed) return NULL;
  relu_backward(size, x, dy, dx);
  return NULL;
}
static napi_value js_fill_zero(napi_env env, napi_callback_info info) {
  Call call = begin(env, info, "fillZero");
  const long size = (long)number(&call, 1);
  float *x = typed(&call, 0, napi_float32_array, size, 0);
  if (call.failed) return NULL;
  fill_zero(size, x);
  return NULL;
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, omp_get_max_threads(), &out);
  return out;
}

NAPI_MODULE_INIT() {
  const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {
      {"conv2dForward", js_conv_forward},
      {"conv2dBackward", js_conv_backward},
      {"maxPoolForward", js_maxpool_forward},
      {"maxPoolBackward", js_maxpool_backward},
      {"globalAvgPoolForward", js_gap_forward},
      {"globalAvgPoolBackward", js_gap_backward},
      {"batchNormForward", js_batchnorm_forward},
      {"batchNormBackward", js_batchnorm_backward},
      {"reluForward", js_relu_forward},
      {"reluBackward", js_relu_backward},
      {"fillZero", js_fill_zero},
      {"threads", js_threads},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
  return exports;
}
