import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export type Format = "jpg" | "jpeg" | "png" | "webp" | "gif" | "bmp" | "JPG";

/** A small image of one colour; `channels` 1 (grey), 3 (RGB) or 4 (RGBA) where the format allows it. */
export async function writeImage(file: string, colour: [number, number, number, number?], options: { size?: number; channels?: 1 | 3 | 4 } = {}): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const size = options.size ?? 12;
  const channels = options.channels ?? 3;
  const ext = path.extname(file).slice(1).toLowerCase();
  if (ext === "bmp") {
    fs.writeFileSync(file, bmp24(size, size, colour));
    return;
  }
  const pixels = Buffer.alloc(size * size * channels);
  for (let p = 0; p < size * size; p++) for (let c = 0; c < channels; c++) pixels[p * channels + c] = channels === 1 ? colour[0] : colour[c] ?? 255;
  let img = sharp(pixels, { raw: { width: size, height: size, channels } });
  if (ext === "jpg" || ext === "jpeg") img = img.jpeg();
  else if (ext === "png") img = img.png();
  else if (ext === "webp") img = img.webp({ lossless: true });
  else if (ext === "gif") img = img.gif();
  else throw new Error(`writeImage: unknown extension ${ext}`);
  await img.toFile(file);
}

/** An uncompressed 24-bit bottom-up BMP of one colour. */
export function bmp24(width: number, height: number, colour: readonly (number | undefined)[]): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + stride * height);
  buf.write("BM", 0, "latin1");
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 54 + y * stride + x * 3;
      buf[o] = colour[2] ?? 0;
      buf[o + 1] = colour[1] ?? 0;
      buf[o + 2] = colour[0] ?? 0;
    }
  }
  return buf;
}

/** An IDX ubyte file (optionally gzipped) with the given shape and values. */
export function idxBytes(shape: number[], values: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}
