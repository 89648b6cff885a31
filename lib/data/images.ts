import * as fs from "fs";
import * as path from "path";
import sharp from "sharp";
import { decodeBmp, isBmp } from "./bmp";

/** An RGB image as interleaved float pixels (HWC), values in [0, 255]. */
export interface RgbImage {
  width: number;
  height: number;
  /** length = height × width × 3, row-major, channel-last. */
  data: Float32Array;
}

/**
 * Which dataset row an image belongs to, for error messages: the table (or folder) it is listed in, its data row and
 * id. `describeImageOrigin` writes it as "poi_dataset.csv row 17 (id 3f2a…)".
 */
export interface ImageOrigin {
  /** The CSV table or folder that lists the image (a path; messages show its base name). */
  source?: string;
  /** 1-based data row (header excluded). */
  row?: number;
  id?: string;
}

/** An image file and the dataset row it belongs to. */
export interface ImageRef extends ImageOrigin {
  file: string;
}

/** What the image readers take: a plain path, or a path with its row. */
export type ImageInput = string | ImageRef;

export function imageRef(input: ImageInput): ImageRef {
  return typeof input === "string" ? { file: input } : input;
}

export function imageFile(input: ImageInput): string {
  return typeof input === "string" ? input : input.file;
}

/** "poi_dataset.csv row 17 (id 3f2a…)", or what is known of it; "" when nothing is. */
export function describeImageOrigin(origin: ImageOrigin): string {
  const table = origin.source !== undefined ? path.basename(origin.source) : undefined;
  const row = origin.row !== undefined ? `row ${origin.row}` : undefined;
  const where = [table, row].filter(Boolean).join(" ");
  return origin.id !== undefined ? `${where}${where ? " " : ""}(id ${origin.id})` : where;
}

/**
 * Raised for a missing or undecodable image. The message names the dataset row first when it is known, then the
 * file (relative to the table's folder when it lies inside it) and why, in words:
 * "poi_dataset.csv row 17 (id 3f2a…): data_main/3f2a…/main.jpg: truncated JPEG (libvips: Premature end of input file)".
 */
export class ImageLoadError extends Error {
  readonly row?: number;
  readonly origin: ImageOrigin;
  constructor(
    readonly file: string,
    readonly reason: string,
    origin?: number | ImageOrigin,
  ) {
    const where: ImageOrigin = typeof origin === "number" ? { row: origin } : origin ?? {};
    const base = where.source !== undefined ? path.dirname(where.source) : undefined;
    const relative = base !== undefined ? path.relative(base, file) : "";
    const shown = relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
    const described = describeImageOrigin(where);
    super(`${described ? `${described}: ` : ""}${shown}: ${reason}`);
    this.name = "ImageLoadError";
    this.origin = where;
    this.row = where.row;
  }
}

/** libvips' decoder message → what went wrong, in words (the original kept in parentheses). */
export function explainDecodeFailure(message: string): string {
  const first = message.split("\n")[0];
  const detail = `(libvips: ${first})`;
  if (/Premature end of (input|JPEG) file/i.test(first)) return `truncated JPEG: the file ends before the image does ${detail}`;
  if (/png.*(end of stream|truncated|IDAT)/i.test(first)) return `truncated PNG: the file ends before the image does ${detail}`;
  if (/unsupported image format/i.test(first)) return `not an image file (no known image format) ${detail}`;
  if (/corrupt header/i.test(first)) return `corrupt image header ${detail}`;
  if (/Corrupt JPEG data/i.test(first)) return `corrupt JPEG data ${detail}`;
  return `cannot decode ${detail}`;
}

export interface DecodeOptions {
  /** Output side in pixels (square); omit to keep the file's own size. */
  size?: number;
  /** CSV row, only for error messages (an ImageRef's row does the same). */
  row?: number;
}

/**
 * A sharp pipeline over an image file: JPEG, PNG, WebP, GIF (first frame), TIFF through libvips; BMP (which the
 * prebuilt libvips cannot read) through lib/data/bmp.ts. Throws ImageLoadError for a missing, empty or bad BMP file;
 * `origin` (the dataset row, or just its number) goes into its message.
 */
export function openImage(file: string, origin?: number | ImageOrigin): sharp.Sharp {
  const row = origin;
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
export async function decodeImage(input: ImageInput, options: DecodeOptions = {}): Promise<RgbImage> {
  const { file, ...origin } = imageRef(input);
  const where: ImageOrigin = options.row !== undefined ? { ...origin, row: options.row } : origin;
  let pipeline = openImage(file, where).removeAlpha().toColourspace("srgb");
  if (options.size !== undefined) {
    pipeline = pipeline.resize(options.size, options.size, { fit: "fill", kernel: "cubic" });
  }
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageLoadError(file, explainDecodeFailure((err as Error).message), where);
  }
  const { width, height, channels } = raw.info;
  const pixels = width * height;
  const data = new Float32Array(pixels * 3);
  if (channels === 3) {
    data.set(raw.data); // bytes → floats in one native copy
  } else if (channels === 1) {
    for (let p = 0; p < pixels; p++) data[3 * p] = data[3 * p + 1] = data[3 * p + 2] = raw.data[p];
  } else {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) data[3 * p + c] = raw.data[p * channels + c];
    }
  }
  return { width, height, data };
}
