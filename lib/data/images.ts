import * as fs from "fs";
import sharp from "sharp";

/** An RGB image as interleaved float pixels (HWC), values in [0, 255]. */
export interface RgbImage {
  width: number;
  height: number;
  /** length = height × width × 3, row-major, channel-last. */
  data: Float32Array;
}

/** Raised for a missing or undecodable image; names the file (and the CSV row when known). */
export class ImageLoadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly row?: number,
  ) {
    super(`${row !== undefined ? `row ${row}: ` : ""}image ${file}: ${reason}`);
    this.name = "ImageLoadError";
  }
}

export interface DecodeOptions {
  /** Output side in pixels (square); omit to keep the file's own size. */
  size?: number;
  /** CSV row, only for error messages. */
  row?: number;
}

/**
 * Decode a JPEG/PNG file to RGB floats in [0, 255], resized (bicubic, exact size, no crop) when `size` is given.
 * Grey or RGBA files become 3-channel RGB.
 */
export async function decodeImage(file: string, options: DecodeOptions = {}): Promise<RgbImage> {
  if (!fs.existsSync(file)) throw new ImageLoadError(file, "file does not exist", options.row);
  let pipeline = sharp(file, { failOn: "error" }).removeAlpha().toColourspace("srgb");
  if (options.size !== undefined) {
    pipeline = pipeline.resize(options.size, options.size, { fit: "fill", kernel: "cubic" });
  }
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageLoadError(file, `cannot decode (${(err as Error).message.split("\n")[0]})`, options.row);
  }
  const { width, height, channels } = raw.info;
  const pixels = width * height;
  const data = new Float32Array(pixels * 3);
  if (channels === 3) {
    for (let i = 0; i < data.length; i++) data[i] = raw.data[i];
  } else if (channels === 1) {
    for (let p = 0; p < pixels; p++) data[3 * p] = data[3 * p + 1] = data[3 * p + 2] = raw.data[p];
  } else {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) data[3 * p + c] = raw.data[p * channels + c];
    }
  }
  return { width, height, data };
}
