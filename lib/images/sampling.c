// Bilinear resampling of HWC float RGB images in WebAssembly, for lib/images' warps, crops and resizes (sampling.ts).
// Arithmetic is float64, in the order of the TypeScript reference in test/images/sampling.test.ts, so outputs equal it
// bit for bit: the same float32 pixels whichever runs. wasm32 has no fused multiply-add, so nothing is contracted.
// Pixel (i, j) has its centre at (i, j). A point whose four taps lie inside takes the fast path; one on or beyond the
// border skips zero-weight taps and reads outside taps through the fill: a constant colour, the mirrored pixel
// (symmetric: the edge pixel repeats) or the nearest edge pixel.

#include <wasm_simd128.h>

enum { FILL_CONSTANT = 0, FILL_REFLECT = 1, FILL_NEAREST = 2 };

// A pixel's red and green, widened to float64.
static inline v128_t red_green(const float *p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }

typedef struct {
  const float *data;
  int width;
  int height;
  int fill;
  double r, g, b;  // FILL_CONSTANT's colour
} Source;

// Integer-valued doubles throughout, so far-off taps cannot overflow an int. % truncates like JS's.
static double remainder_of(double i, double n) { return i - n * __builtin_trunc(i / n); }

static double reflect_index(double i, double n) {
  if (n == 1) return 0;
  // Within one image width of the border (every rotation or zoom-out by up to 2×) without the divisions.
  if (i >= -n && i < 0) return -1 - i;
  if (i >= n && i < 2 * n) return 2 * n - 1 - i;
  double period = 2 * n;
  double m = remainder_of(remainder_of(i, period) + period, period);
  if (m >= n) m = period - 1 - m;
  return m;
}

static double clamp_index(double i, double n) { return i < 0 ? 0 : i > n - 1 ? n - 1 : i; }

static inline __attribute__((always_inline)) void sample_border(const Source *s, double x, double y, float *out) {
  double x0 = __builtin_floor(x);
  double y0 = __builtin_floor(y);
  double fx = x - x0;
  double fy = y - y0;
  double r = 0, g = 0, b = 0;
  for (int dy = 0; dy <= 1; dy++) {
    double wy = dy == 0 ? 1 - fy : fy;
    if (wy == 0) continue;
    for (int dx = 0; dx <= 1; dx++) {
      double wx = dx == 0 ? 1 - fx : fx;
      if (wx == 0) continue;
      double xi = x0 + dx;
      double yi = y0 + dy;
      int inside = xi >= 0 && xi < s->width && yi >= 0 && yi < s->height;
      double cr, cg, cb;
      if (inside || s->fill != FILL_CONSTANT) {
        if (!inside && s->fill == FILL_REFLECT) {
          xi = reflect_index(xi, s->width);
          yi = reflect_index(yi, s->height);
        } else if (!inside) {
          xi = clamp_index(xi, s->width);
          yi = clamp_index(yi, s->height);
        }
        const float *p = s->data + ((int)yi * s->width + (int)xi) * 3;
        cr = p[0];
        cg = p[1];
        cb = p[2];
      } else {
        cr = s->r;
        cg = s->g;
        cb = s->b;
      }
      double weight = wx * wy;
      r += weight * cr;
      g += weight * cg;
      b += weight * cb;
    }
  }
  out[0] = (float)r;
  out[1] = (float)g;
  out[2] = (float)b;
}

static inline __attribute__((always_inline)) void sample(const Source *s, double x, double y, float *out) {
  // A non-finite coordinate (a degenerate map) gives NaN, as the reference's arithmetic does, and never an index.
  if (!(x - x == 0 && y - y == 0)) {
    out[0] = out[1] = out[2] = __builtin_nan("");
    return;
  }
  double x0 = __builtin_floor(x);
  double y0 = __builtin_floor(y);
  if (x0 < 0 || y0 < 0 || x0 + 1 >= s->width || y0 + 1 >= s->height) {
    sample_border(s, x, y, out);
    return;
  }
  double fx = x - x0;
  double fy = y - y0;
  double w00 = (1 - fx) * (1 - fy);
  double w01 = fx * (1 - fy);
  double w10 = (1 - fx) * fy;
  double w11 = fx * fy;
  const float *a = s->data + ((int)y0 * s->width + (int)x0) * 3;
  const float *b = a + s->width * 3;
  // Red and green as the two lanes of one float64 vector, blue alone: the same operations in the same order.
  v128_t rg = wasm_f64x2_mul(wasm_f64x2_splat(w00), red_green(a));
  rg = wasm_f64x2_add(rg, wasm_f64x2_mul(wasm_f64x2_splat(w01), red_green(a + 3)));
  rg = wasm_f64x2_add(rg, wasm_f64x2_mul(wasm_f64x2_splat(w10), red_green(b)));
  rg = wasm_f64x2_add(rg, wasm_f64x2_mul(wasm_f64x2_splat(w11), red_green(b + 3)));
  wasm_v128_store64_lane(out, wasm_f32x4_demote_f64x2_zero(rg), 0);
  out[2] = (float)(w00 * a[2] + w01 * a[5] + w10 * b[2] + w11 * b[5]);
}

static Source source(const float *data, int width, int height, int fill, double r, double g, double b) {
  Source s = {data, width, height, fill, r, g, b};
  return s;
}

// Output pixel (x, y) of a width × height image reads the source at the inverse affine map of (x, y):
// centre + [ia ib; ic id]·((x, y) − centre − shift).
__attribute__((export_name("warp_affine"))) void warp_affine(const float *src, float *dst, int width, int height,
                                                             double ia, double ib, double ic, double id, double cx,
                                                             double cy, double tx, double ty, int fill, double r,
                                                             double g, double b) {
  Source s = source(src, width, height, fill, r, g, b);
  for (int y = 0; y < height; y++) {
    double dy = y - cy - ty;
    for (int x = 0; x < width; x++) {
      double dx = x - cx - tx;
      sample(&s, cx + ia * dx + ib * dy, cy + ic * dx + id * dy, dst + (y * width + x) * 3);
    }
  }
}

// The window [left, left + cropW) × [top, top + cropH) of the source resampled to outW × outH with half-pixel
// centres (tf.image.resize / torchvision without antialias): stepX = cropW / outW, stepY = cropH / outH.
__attribute__((export_name("resample_window"))) void resample_window(const float *src, int width, int height,
                                                                     float *dst, int out_width, int out_height,
                                                                     double left, double top, double step_x,
                                                                     double step_y, int fill, double r, double g,
                                                                     double b) {
  Source s = source(src, width, height, fill, r, g, b);
  for (int y = 0; y < out_height; y++) {
    double src_y = top + (y + 0.5) * step_y - 0.5;
    for (int x = 0; x < out_width; x++) {
      sample(&s, left + (x + 0.5) * step_x - 0.5, src_y, dst + (y * out_width + x) * 3);
    }
  }
}

// Mirror left–right (horizontal != 0) or top–bottom.
__attribute__((export_name("flip"))) void flip(const float *src, float *dst, int width, int height, int horizontal) {
  for (int y = 0; y < height; y++) {
    for (int x = 0; x < width; x++) {
      const float *p = horizontal ? src + (y * width + (width - 1 - x)) * 3 : src + ((height - 1 - y) * width + x) * 3;
      float *q = dst + (y * width + x) * 3;
      q[0] = p[0];
      q[1] = p[1];
      q[2] = p[2];
    }
  }
}
