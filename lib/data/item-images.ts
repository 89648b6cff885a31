/**
 * Pixels of a dataset item, whatever holds them (an image file, an IDX stack), as 8-bit grey or RGB at a chosen
 * size: the compact form a training run keeps in memory (60 000 Fashion-MNIST images at 28×28×3 are 141 MB).
 */
import sharp from "sharp";
import type { DatasetItem } from "./dataset";
import { idxImage } from "./idx";
import { explainDecodeFailure, ImageLoadError, openImage, type ImageOrigin, type RgbImage } from "./images";

export interface ItemPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  /** height × width × channels bytes, row-major, channel-last. */
  data: Uint8Array;
}

export interface ItemPixelOptions {
  /** Square output side (bicubic resize, no crop); omit to keep the native size. */
  size?: number;
  /** 3 (default): RGB, grey images replicated; 1: luminance (ITU-R 601, as PIL's convert("L")). */
  channels?: 1 | 3;
}

/** Decode one item's image to 8-bit pixels. Errors name the file and the item's row. */
export async function decodeItemPixels(item: Pick<DatasetItem, "image" | "imageIndex" | "row"> & { id?: string }, options: ItemPixelOptions = {}): Promise<ItemPixels> {
  if (item.image === undefined) throw new Error(`row ${item.row}: the item has no image`);
  const channels = options.channels ?? 3;
  let pipeline: sharp.Sharp;
  if (item.imageIndex !== undefined) {
    const img = idxImage(item.image, item.imageIndex);
    if (options.size === undefined || (options.size === img.width && options.size === img.height)) {
      if (img.channels === channels) return { width: img.width, height: img.height, channels, data: img.data.slice() };
      if (img.channels === 1 && channels === 3) {
        // Gray to RGB repeats the value in each channel (what sharp's sRGB conversion gives), without its per-image cost.
        const data = new Uint8Array(img.data.length * 3);
        for (let p = 0; p < img.data.length; p++) data[p * 3] = data[p * 3 + 1] = data[p * 3 + 2] = img.data[p];
        return { width: img.width, height: img.height, channels, data };
      }
    }
    pipeline = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 } });
  } else {
    pipeline = openImage(item.image, { row: item.row, id: item.id });
  }
  pipeline = pipeline.removeAlpha().toColourspace("srgb");
  if (options.size !== undefined) pipeline = pipeline.resize(options.size, options.size, { fit: "fill", kernel: "cubic" });
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageLoadError(item.image, explainDecodeFailure((err as Error).message), { row: item.row, id: item.id });
  }
  const { width, height } = raw.info;
  const pixels = width * height;
  if (raw.info.channels === channels) return { width, height, channels, data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length) };
  const data = new Uint8Array(pixels * channels);
  const from = raw.info.channels;
  if (channels === 1) {
    // PIL's convert("L"): ITU-R 601 luma on the encoded values, rounded.
    for (let p = 0; p < pixels; p++) data[p] = Math.floor((raw.data[p * from] * 299 + raw.data[p * from + 1] * 587 + raw.data[p * from + 2] * 114 + 500) / 1000);
  } else {
    for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = raw.data[p * from + Math.min(c, from - 1)];
  }
  return { width, height, channels, data };
}

/** One item's image as RGB floats in [0, 255] (the form lib/images and lib/viz take). */
export async function decodeItemImage(item: Pick<DatasetItem, "image" | "imageIndex" | "row"> & { id?: string }, options: { size?: number } = {}): Promise<RgbImage> {
  const px = await decodeItemPixels(item, { size: options.size, channels: 3 });
  return { width: px.width, height: px.height, data: Float32Array.from(px.data) };
}

/** Width and height from the file header (fast: no pixel decoding); ImageLoadError when the file is not a readable image. */
export async function imageFileSize(file: string, row?: number | ImageOrigin): Promise<{ width: number; height: number }> {
  try {
    const meta = await openImage(file, row).metadata();
    if (!meta.width || !meta.height) throw new Error("no image size in the header");
    return { width: meta.width, height: meta.height };
  } catch (err) {
    if (err instanceof ImageLoadError) throw err;
    throw new ImageLoadError(file, `not a readable image (${(err as Error).message.split("\n")[0]})`, row);
  }
}

/** Fully decode a file to check it (catches truncated data a header check misses); ImageLoadError otherwise. */
export async function verifyImageFile(file: string, row?: number | ImageOrigin): Promise<void> {
  try {
    await openImage(file, row).raw().toBuffer();
  } catch (err) {
    if (err instanceof ImageLoadError) throw err;
    throw new ImageLoadError(file, explainDecodeFailure((err as Error).message), row);
  }
}

/** Pixels of many items stacked: n × size × size × channels bytes (what a training run keeps in memory). */
export interface PixelStack {
  count: number;
  size: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/**
 * Decode items into one stack at a common square size (files decoded several at a time; IDX images copied straight
 * when no resize is needed). Errors name the file and row; `onProgress(done, total)` reports as it goes.
 */
export async function decodePixelStack(
  items: readonly Pick<DatasetItem, "image" | "imageIndex" | "row">[],
  options: { size: number; channels?: 1 | 3; concurrency?: number; onProgress?: (done: number, total: number) => void },
): Promise<PixelStack> {
  const channels = options.channels ?? 3;
  const per = options.size * options.size * channels;
  const data = new Uint8Array(items.length * per);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const px = await decodeItemPixels(items[i], { size: options.size, channels });
      if (px.data.length !== per) throw new Error(`row ${items[i].row}: decoded ${px.width}×${px.height}×${px.channels}, expected ${options.size}×${options.size}×${channels}`);
      data.set(px.data, i * per);
      done++;
      if (options.onProgress && (done % 1000 === 0 || done === items.length)) options.onProgress(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, items.length)) }, worker));
  return { count: items.length, size: options.size, channels, data };
}

/** Item `index` of a stack as an RGB image (grayscale repeated over the three channels), values 0–255. */
export function pixelStackImage(stack: PixelStack, index: number): RgbImage {
  const per = stack.size * stack.size;
  const data = new Float32Array(per * 3);
  const offset = index * per * stack.channels;
  for (let p = 0; p < per; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = stack.data[offset + p * stack.channels + (stack.channels === 1 ? 0 : c)];
  }
  return { width: stack.size, height: stack.size, data };
}
