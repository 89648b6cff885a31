/** Resizing and sampling of RgbImage (no tfjs, no sharp): usable before any forward pass. Pixel loops: sampling.ts. */
import type { RgbImage } from "../data/images";
import { imageData } from "./arena";
import { type Fill, resamplePixels, warpPixels } from "./sampling";

export type { Fill };

/** Side of the ImageNet-pretrained backbones' input (MobileNetV2 224). */
export const PRETRAINED_SIZE = 224;
/** Side of the dataset's own photos. */
export const NATIVE_SIZE = 128;

export function blankImage(width: number, height: number): RgbImage {
  return { width, height, data: imageData(width * height * 3) };
}

export function cloneImage(image: RgbImage): RgbImage {
  const data = imageData(image.data.length);
  data.set(image.data);
  return { width: image.width, height: image.height, data };
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
  return resamplePixels(image, left, top, cropW, cropH, outW, outH, fill);
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
  const det = m.a * m.d - m.b * m.c;
  if (Math.abs(det) < 1e-12) throw new Error("warpAffine: singular matrix");
  return warpPixels(image, { ia: m.d / det, ib: -m.b / det, ic: -m.c / det, id: m.a / det, tx: m.tx, ty: m.ty }, fill);
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
