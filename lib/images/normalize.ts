/**
 * Pixel normalisation: out = (pixel / 255 − mean[c]) / std[c] per channel.
 * Presets: ImageNet statistics (pretrained backbones), [-1, 1] (MobileNet-style), or statistics fitted on training images only.
 */
import type { RgbImage } from "../data/images";
import { assertImage } from "./resize";

export type Rgb = [number, number, number];

/** Channel statistics on the [0, 1] pixel scale. Plain JSON. */
export interface Normalization {
  name: string;
  mean: Rgb;
  std: Rgb;
  /** For fitted statistics: how many images / pixels they came from. */
  fittedOnImages?: number;
  fittedOnPixels?: number;
}

/** A normalised image: same layout as RgbImage (HWC, RGB), values no longer in [0, 255]. */
export interface NormalizedImage {
  width: number;
  height: number;
  data: Float32Array;
}

export const IMAGENET_NORMALIZATION: Readonly<Normalization> = Object.freeze({
  name: "imagenet",
  mean: [0.485, 0.456, 0.406] as Rgb,
  std: [0.229, 0.224, 0.225] as Rgb,
});

/** Maps [0, 255] to [-1, 1] (what MobileNetV2's own preprocessing does). */
export const SYMMETRIC_NORMALIZATION: Readonly<Normalization> = Object.freeze({
  name: "minus-one-one",
  mean: [0.5, 0.5, 0.5] as Rgb,
  std: [0.5, 0.5, 0.5] as Rgb,
});

/**
 * Per-channel mean and population std of the training images only (pass the train split's images).
 * Accepts any iterable so images can be decoded one at a time.
 */
export function fitNormalization(trainImages: Iterable<RgbImage>, name = "train"): Normalization {
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  let pixels = 0;
  let images = 0;
  for (const image of trainImages) {
    assertImage(image, `fitNormalization (image ${images})`);
    const d = image.data;
    for (let i = 0; i < d.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const v = d[i + c] / 255;
        sum[c] += v;
        sumSq[c] += v * v;
      }
    }
    pixels += d.length / 3;
    images++;
  }
  if (pixels === 0) throw new Error("fitNormalization: no training images");
  const mean = sum.map((s) => s / pixels) as Rgb;
  const std = sumSq.map((s, c) => {
    const sd = Math.sqrt(Math.max(0, s / pixels - mean[c] * mean[c]));
    return sd > 1e-6 ? sd : 1; // constant channel (up to float error): leave it unscaled
  }) as Rgb;
  return { name, mean, std, fittedOnImages: images, fittedOnPixels: pixels };
}

export function normalizeImage(image: RgbImage, norm: Normalization): NormalizedImage {
  assertImage(image, "normalizeImage");
  const out = new Float32Array(image.data.length);
  const scale = norm.std.map((s) => 1 / (255 * s));
  const shift = norm.mean.map((m, c) => m / norm.std[c]);
  for (let i = 0; i < out.length; i += 3) {
    for (let c = 0; c < 3; c++) out[i + c] = image.data[i + c] * scale[c] - shift[c];
  }
  return { width: image.width, height: image.height, data: out };
}

/** Back to [0, 255] pixels (for showing a normalised image). */
export function denormalizeImage(image: NormalizedImage, norm: Normalization): RgbImage {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i += 3) {
    for (let c = 0; c < 3; c++) out[i + c] = (image.data[i + c] * norm.std[c] + norm.mean[c]) * 255;
  }
  return { width: image.width, height: image.height, data: out };
}

/** Per-channel mean / std / min / max of any HWC float image set (e.g. to show the effect of a normalisation). */
export function channelStats(images: Iterable<{ data: Float32Array }>): { mean: Rgb; std: Rgb; min: Rgb; max: Rgb } {
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  const min: Rgb = [Infinity, Infinity, Infinity];
  const max: Rgb = [-Infinity, -Infinity, -Infinity];
  let n = 0;
  for (const image of images) {
    const d = image.data;
    for (let i = 0; i < d.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const v = d[i + c];
        sum[c] += v;
        sumSq[c] += v * v;
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    }
    n += d.length / 3;
  }
  const mean = sum.map((s) => s / n) as Rgb;
  const std = sumSq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] * mean[c]))) as Rgb;
  return { mean, std, min, max };
}
