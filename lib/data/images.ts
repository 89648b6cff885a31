import * as fs from "fs";
import sharp from "sharp";
import { decodeBmp, isBmp } from "./bmp";

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
 * A sharp pipeline over an image file: JPEG, PNG, WebP, GIF (first frame), TIFF through libvips; BMP (which the
 * prebuilt libvips cannot read) through lib/data/bmp.ts. Throws ImageLoadError for a missing, empty or bad BMP file.
 */
export function openImage(file: string, row?: number): sharp.Sharp {
  if (!fs.existsSync(file)) throw new ImageLoadError(file, "file does not exist", row);
  const bytes = fs.readFileSync(file);
  if (bytes.length === 0) throw new ImageLoadError(file, "empty file (0 bytes)", row);
  if (isBmp(bytes)) {
    try {
      const bmp = decodeBmp(bytes);
      return sharp(Buffer.from(bmp.data.buffer, bmp.data.byteOffset, bmp.data.byteLength), { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
    } catch (err) {
      throw new ImageLoadError(file, `cannot decode (${(err as Error).message})`, row);
    }
  }
  return sharp(bytes, { failOn: "error" });
}

/**
 * Decode an image file (see openImage) to RGB floats in [0, 255], resized (bicubic, exact size, no crop) when
 * `size` is given. Grey or RGBA files become 3-channel RGB (alpha dropped, as PIL's convert("RGB")).
 */
export async function decodeImage(file: string, options: DecodeOptions = {}): Promise<RgbImage> {
  let pipeline = openImage(file, options.row).removeAlpha().toColourspace("srgb");
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
