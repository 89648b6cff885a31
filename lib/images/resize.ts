/** Pure-TypeScript resizing and sampling of RgbImage (no tfjs, no sharp): usable before any forward pass. */
import type { RgbImage } from "../data/images";

/** Side of the ImageNet-pretrained backbones' input (MobileNetV2 224). */
export const PRETRAINED_SIZE = 224;
/** Side of the dataset's own photos. */
export const NATIVE_SIZE = 128;

/** What a sample outside the image reads: a constant grey level / RGB colour, the mirrored pixel, or the nearest edge pixel. */
export type Fill = number | readonly [number, number, number] | "reflect" | "nearest";

export function blankImage(width: number, height: number): RgbImage {
  return { width, height, data: new Float32Array(width * height * 3) };
}

export function cloneImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: image.data.slice() };
}

export function assertImage(image: RgbImage, where: string): void {
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`${where}: bad image size ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new Error(`${where}: data has ${data.length} values, expected ${width}×${height}×3 = ${width * height * 3}`);
  }
}

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - 1 - m; // symmetric reflection (edge pixel repeated), like Keras fill_mode="reflect"
  return m;
}

/**
 * Bilinear sample at continuous pixel coordinates (x, y), where pixel (i, j) has its centre at (i, j).
 * Writes the RGB value into out[o..o+2].
 */
export function sampleBilinear(image: RgbImage, x: number, y: number, fill: Fill, out: Float32Array, o: number): void {
  const { width: w, height: h, data } = image;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  let r = 0;
  let g = 0;
  let b = 0;
  for (let dy = 0; dy <= 1; dy++) {
    const wy = dy === 0 ? 1 - fy : fy;
    if (wy === 0) continue;
    for (let dx = 0; dx <= 1; dx++) {
      const wx = dx === 0 ? 1 - fx : fx;
      if (wx === 0) continue;
      let xi = x0 + dx;
      let yi = y0 + dy;
      const inside = xi >= 0 && xi < w && yi >= 0 && yi < h;
      let cr: number;
      let cg: number;
      let cb: number;
      if (inside || fill === "reflect" || fill === "nearest") {
        if (!inside) {
          if (fill === "reflect") {
            xi = reflectIndex(xi, w);
            yi = reflectIndex(yi, h);
          } else {
            xi = Math.min(w - 1, Math.max(0, xi));
            yi = Math.min(h - 1, Math.max(0, yi));
          }
        }
        const p = (yi * w + xi) * 3;
        cr = data[p];
        cg = data[p + 1];
        cb = data[p + 2];
      } else if (typeof fill === "number") {
        cr = cg = cb = fill;
      } else {
        const rgb = fill as readonly [number, number, number];
        cr = rgb[0];
        cg = rgb[1];
        cb = rgb[2];
      }
      const wgt = wx * wy;
      r += wgt * cr;
      g += wgt * cg;
      b += wgt * cb;
    }
  }
  out[o] = r;
  out[o + 1] = g;
  out[o + 2] = b;
}

/**
 * sampleBilinear, with points whose four taps all lie inside the image on an inlined path: the same weights and the
 * same order of the sums (a zero-weight tap adds exactly 0), so the same float values; points on or beyond the border
 * go through sampleBilinear and its fill. Warps and resizes call this once per output pixel.
 */
export function sampleBilinearFast(image: RgbImage, x: number, y: number, fill: Fill, out: Float32Array, o: number): void {
  const w = image.width;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= image.height) {
    sampleBilinear(image, x, y, fill, out, o);
    return;
  }
  const data = image.data;
  const fx = x - x0;
  const fy = y - y0;
  const w00 = (1 - fx) * (1 - fy);
  const w01 = fx * (1 - fy);
  const w10 = (1 - fx) * fy;
  const w11 = fx * fy;
  const a = (y0 * w + x0) * 3;
  const b = a + w * 3;
  out[o] = w00 * data[a] + w01 * data[a + 3] + w10 * data[b] + w11 * data[b + 3];
  out[o + 1] = w00 * data[a + 1] + w01 * data[a + 4] + w10 * data[b + 1] + w11 * data[b + 4];
  out[o + 2] = w00 * data[a + 2] + w01 * data[a + 5] + w10 * data[b + 2] + w11 * data[b + 5];
}

/**
 * Resample a window of the source, [left, left+cropW) × [top, top+cropH) in source pixels, to outW × outH
 * (bilinear, half-pixel centres like tf.image.resize / torchvision without antialias).
 */
export function resampleWindow(
  image: RgbImage,
  left: number,
  top: number,
  cropW: number,
  cropH: number,
  outW: number,
  outH: number,
  fill: Fill = "nearest",
): RgbImage {
  const out = blankImage(outW, outH);
  const sx = cropW / outW;
  const sy = cropH / outH;
  for (let y = 0; y < outH; y++) {
    const srcY = top + (y + 0.5) * sy - 0.5;
    for (let x = 0; x < outW; x++) {
      sampleBilinearFast(image, left + (x + 0.5) * sx - 0.5, srcY, fill, out.data, (y * outW + x) * 3);
    }
  }
  return out;
}

/** 2×2 matrix [a, b; c, d] applied about the image centre, then a shift (tx, ty) in pixels. */
export interface Affine2 {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

/** Warp with a forward affine map (output = centre + A·(input − centre) + t), sampling the inverse bilinearly. */
export function warpAffine(image: RgbImage, m: Affine2, fill: Fill = 0): RgbImage {
  const { width: w, height: h } = image;
  const det = m.a * m.d - m.b * m.c;
  if (Math.abs(det) < 1e-12) throw new Error("warpAffine: singular matrix");
  const ia = m.d / det;
  const ib = -m.b / det;
  const ic = -m.c / det;
  const id = m.a / det;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const out = blankImage(w, h);
  for (let y = 0; y < h; y++) {
    const dy = y - cy - m.ty;
    for (let x = 0; x < w; x++) {
      const dx = x - cx - m.tx;
      sampleBilinearFast(image, cx + ia * dx + ib * dy, cy + ic * dx + id * dy, fill, out.data, (y * w + x) * 3);
    }
  }
  return out;
}

/** Resize to width × height (height defaults to width: square), bilinear. Returns a copy even when the size is unchanged. */
export function resizeImage(image: RgbImage, width: number, height: number = width): RgbImage {
  assertImage(image, "resizeImage");
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`resizeImage: target size must be positive integers, got ${width}×${height}`);
  }
  if (width === image.width && height === image.height) return cloneImage(image);
  return resampleWindow(image, 0, 0, image.width, image.height, width, height);
}

/** Central square-or-rectangle crop of the given size (integer pixel offsets). */
export function centerCrop(image: RgbImage, width: number, height: number = width): RgbImage {
  const left = Math.floor((image.width - width) / 2);
  const top = Math.floor((image.height - height) / 2);
  return resampleWindow(image, left, top, width, height, width, height, 0);
}

/** Keep values inside [0, 255] in place (after colour or noise transforms). */
export function clampInPlace(image: RgbImage): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 255 ? 255 : d[i];
  return image;
}
